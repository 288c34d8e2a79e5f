import * as tf from '@tensorflow/tfjs';

/**
 * Historical averaging (Salimans et al. 2016, sec 3.3): a penalty ||theta - (1/t) sum_{i<=t} theta_i||^2
 * on each player's parameters. The running means live in non-trainable variables outside any
 * tidy; call update() once per step before the loss (so at step 1 the mean is theta_1 and the
 * penalty is 0), and dispose() when done.
 */
export class HistoricalAverage {
  private readonly means: tf.Variable[];
  private steps = 0;

  constructor(private readonly params: readonly tf.Variable[]) {
    if (params.length === 0) throw new Error('HistoricalAverage: expected at least one parameter, got none');
    // tidy frees the zeros; each variable keeps its own reference to the data.
    this.means = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
  }

  /** Number of parameter snapshots averaged so far. */
  get count(): number {
    return this.steps;
  }

  /** Folds the current parameters into the mean: mean += (theta - mean) / t. */
  update(): void {
    this.steps++;
    const t = this.steps;
    tf.tidy(() => {
      this.params.forEach((p, i) => this.means[i].assign(tf.add(this.means[i], tf.div(tf.sub(p, this.means[i]), t))));
    });
  }

  /** sum over parameters of ||theta - mean||^2; differentiable in theta (the means are constants). */
  penalty(): tf.Scalar {
    if (this.steps === 0) throw new Error('HistoricalAverage.penalty: expected update() to have run at least once, got 0 updates');
    return tf.tidy(() => tf.addN(this.params.map((p, i) => tf.sum(tf.square(tf.sub(p, this.means[i]))))) as tf.Scalar);
  }

  /** Copies of the running means (the caller disposes them). */
  snapshot(): tf.Tensor[] {
    return this.means.map((m) => m.clone());
  }

  /** Sets the running means and their count (from a snapshot() and count of an earlier run). */
  restore(means: readonly tf.Tensor[], count: number): void {
    if (means.length !== this.means.length || !Number.isInteger(count) || count < 0) {
      throw new Error(`HistoricalAverage.restore: expected ${this.means.length} means and a count >= 0, got ${means.length} and ${count}`);
    }
    means.forEach((m, i) => this.means[i].assign(m));
    this.steps = count;
  }

  dispose(): void {
    tf.dispose(this.means);
  }
}
