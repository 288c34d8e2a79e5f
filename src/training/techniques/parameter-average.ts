import * as tf from '@tensorflow/tfjs';

/**
 * An exponential moving average of parameters, as the paper's MNIST code evaluates D (disc_param_avg):
 * after each update, mean += rate * (theta - mean), from mean = 0, read with the bias correction
 * 1 / (1 - (1 - rate)^t) (as Adam corrects its moments), so early reads are not pulled towards 0.
 * The means live in non-trainable variables; dispose() frees them.
 */
export class ParameterAverage {
  private readonly means: tf.Variable[];
  private steps = 0;

  constructor(
    private readonly params: readonly tf.Variable[],
    readonly rate: number,
  ) {
    if (!(rate > 0 && rate <= 1)) throw new Error(`ParameterAverage.rate: expected a number in (0, 1], got ${rate}`);
    this.means = tf.tidy(() => params.map((p) => tf.variable(tf.zerosLike(p), false)));
  }

  get count(): number {
    return this.steps;
  }

  /** Folds the current parameters into the average. */
  update(): void {
    this.steps++;
    tf.tidy(() => {
      this.params.forEach((p, i) => this.means[i].assign(tf.add(this.means[i], tf.mul(tf.sub(p, this.means[i]), this.rate))));
    });
  }

  /** The bias-corrected averages, one per parameter (the caller disposes them); the parameters themselves before any update. */
  averages(): tf.Tensor[] {
    if (this.steps === 0) return this.params.map((p) => p.clone());
    const correction = 1 / (1 - Math.pow(1 - this.rate, this.steps));
    return tf.tidy(() => this.means.map((m) => tf.mul(m, correction)));
  }

  /** Runs fn with the parameters set to their averages, then puts the parameters back. */
  withAverages<T>(fn: () => T): T {
    const current = this.params.map((p) => p.clone());
    const averages = this.averages();
    this.params.forEach((p, i) => p.assign(averages[i]));
    tf.dispose(averages);
    try {
      return fn();
    } finally {
      this.params.forEach((p, i) => p.assign(current[i]));
      tf.dispose(current);
    }
  }

  /** withAverages for async work (e.g. saving a model): the averages stay in place until fn settles. */
  async withAveragesAsync<T>(fn: () => Promise<T>): Promise<T> {
    const current = this.params.map((p) => p.clone());
    const averages = this.averages();
    this.params.forEach((p, i) => p.assign(averages[i]));
    tf.dispose(averages);
    try {
      return await fn();
    } finally {
      this.params.forEach((p, i) => p.assign(current[i]));
      tf.dispose(current);
    }
  }

  /** Copies of the raw (uncorrected) means, for a checkpoint (the caller disposes them). */
  snapshot(): tf.Tensor[] {
    return this.means.map((m) => m.clone());
  }

  restore(means: readonly tf.Tensor[], count: number): void {
    if (means.length !== this.means.length || !Number.isInteger(count) || count < 0) {
      throw new Error(`ParameterAverage.restore: expected ${this.means.length} means and a count >= 0, got ${means.length} and ${count}`);
    }
    means.forEach((m, i) => this.means[i].assign(m));
    this.steps = count;
  }

  dispose(): void {
    tf.dispose(this.means);
  }
}
