import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE } from '../../backend/kernels/adam-update';

/** The AdamOptimizer state this subclass updates; tfjs 4.22 declares it private (adam_optimizer.js). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

/**
 * tf.train.adam with each variable's update as one ADAM_UPDATE kernel where the backend has one (ganql's
 * wasm kernels), tfjs's own update elsewhere. Same state, names and weights as tf.AdamOptimizer
 * (getWeights / setWeights and checkpoints work unchanged); only the arithmetic is fused.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** epsilon inside the square root, sqrt(v_hat + eps), as Salimans et al.'s released code (nn.adam_updates) has it. */
  readonly epsilonInside: boolean;

  constructor(learningRate: number, beta1: number, beta2: number, epsilon: number, options: { epsilonInside?: boolean } = {}) {
    super(learningRate, beta1, beta2, epsilon);
    this.epsilonInside = options.epsilonInside ?? false;
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const fused = tf.getKernel(ADAM_UPDATE, tf.getBackend()) !== undefined;
    if (!fused && !this.epsilonInside) {
      super.applyGradients(variableGradients);
      return;
    }
    // Private in the typings, public at run time; the fields are the base class's own state.
    const state = this as unknown as AdamState;
    const entries: [string, tf.Tensor | null][] = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    const accBeta1 = state.accBeta1.dataSync()[0];
    const accBeta2 = state.accBeta2.dataSync()[0];
    tf.tidy(() => {
      entries.forEach(([name, gradient], i) => {
        const value = tf.engine().registeredVariables[name];
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        // A variable outside the loss's graph has no gradient, and tfjs's Adam leaves it (and its moments) as they are.
        if (gradient === null || gradient === undefined) return;
        const m = state.accumulatedFirstMoment[i].variable;
        const v = state.accumulatedSecondMoment[i].variable;
        const attrs = {
          learningRate: this.learningRate,
          beta1: this.beta1,
          beta2: this.beta2,
          epsilon: this.epsilon,
          accBeta1,
          accBeta2,
          epsilonInside: this.epsilonInside,
        };
        const [newValue, newM, newV] = fused
          ? tf.engine().runKernel<tf.Tensor[]>(ADAM_UPDATE, { value, gradient, m, v }, attrs)
          : this.updateWithOps(value, gradient, m, v, accBeta1, accBeta2);
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }

  /** The update in tfjs ops, for a backend without the fused kernel (epsilon inside the root). */
  private updateWithOps(value: tf.Tensor, gradient: tf.Tensor, m: tf.Tensor, v: tf.Tensor, accBeta1: number, accBeta2: number): tf.Tensor[] {
    const newM = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
    const newV = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
    const denominator = tf.sqrt(tf.add(tf.div(newV, 1 - accBeta2), this.epsilon));
    const newValue = tf.sub(value, tf.div(tf.mul(tf.div(newM, 1 - accBeta1), this.learningRate), denominator));
    return [newValue, newM, newV];
  }
}
