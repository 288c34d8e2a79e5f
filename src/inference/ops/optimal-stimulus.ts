import * as tf from '@tensorflow/tfjs';
import { createPrng } from '../../data/prng';
import { neuronActivations } from './neuron-activations';

export interface OptimalStimulusOptions {
  /** Gradient-ascent steps (>= 1). */
  steps: number;
  /** L2 length of each step, in pixel units: the gradient is normalised to unit L2 norm first. */
  stepSize: number;
  /** Bound on the L2 norm of (image - centre); see findOptimalStimulus. */
  maxNorm: number;
  /** Pixel range of the network's input: every pixel is clipped into it after each step. */
  inputRange: [number, number];
  /** Seed of the small random start (centre + 0.01 * N(0, 1) per pixel). */
  seed: number;
  /**
   * The image c the norm is measured from, h*w*c values inside inputRange: the dataset's mean image,
   * as Le et al. bounded the norm of zero-mean inputs. Default: every pixel at the centre of inputRange.
   */
  centre?: Float32Array;
}

export interface OptimalStimulus {
  /** The best image found, h*w*c values, channels last. */
  image: Float32Array;
  /** The neuron's activation for `image`. */
  activation: number;
  /** The activation after each step (trace[0] = the start), steps + 1 values. */
  trace: number[];
  /** For a dense unit with a saturating activation (what the ascent climbs): its pre-activation for `image`. */
  preActivation?: number;
}

/**
 * The input that maximises one neuron's activation (Le et al. 2012, sec 4.4 "optimal stimulus";
 * Erhan et al. 2009 "activation maximisation"), by projected, normalised gradient ascent:
 *   x <- P(x + stepSize * g / ||g||_2),  g = d activation / d x,
 * where the activation is neuronActivations of the layer output (a unit, or a feature map's spatial
 * maximum) and P maps into the constraint set { x : x in inputRange per pixel, ||x - c||_2 <= maxNorm }
 * with c the options' centre image (the dataset's mean image; Le et al. used ||x||_2 = 1 on inputs
 * normalised to zero mean), by default the centre of inputRange. P clips to the range, then shrinks
 * x - c onto the ball if it is outside; as c lies in the box and the box is convex, the shrunk point
 * stays in the box, so the result is always feasible (a feasible point, not the exact Euclidean
 * projection onto the intersection). Starts from a seeded small random image near c; returns the
 * best iterate (ascent on a ReLU or max can overshoot).
 * A dense unit with a saturating activation (sigmoid, tanh, ...) is climbed on its pre-activation
 * w.h + b instead: the activation is an increasing function of it, so the maximisers are the same,
 * but the activation's float32 gradient vanishes once it rounds to its bound (sigmoid 1.0), which
 * would stop the ascent at the first image that saturates it; the reported activation (and trace)
 * is still the unit's activation.
 * `activationModel` maps an image batch [n, h, w, c] to the layer's output.
 */
export function findOptimalStimulus(activationModel: tf.LayersModel, neuron: number, options: OptimalStimulusOptions): OptimalStimulus {
  const { steps, stepSize, maxNorm, inputRange, seed } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`findOptimalStimulus: expected steps a positive integer, got ${steps}`);
  if (!(stepSize > 0 && Number.isFinite(stepSize))) throw new Error(`findOptimalStimulus: expected stepSize > 0, got ${stepSize}`);
  if (!(maxNorm > 0 && Number.isFinite(maxNorm))) throw new Error(`findOptimalStimulus: expected maxNorm > 0, got ${maxNorm}`);
  const [low, high] = inputRange;
  if (!(low < high)) throw new Error(`findOptimalStimulus: expected inputRange [min, max] with min < max, got [${low}, ${high}]`);
  const inputShape = activationModel.inputs[0].shape.slice(1);
  if (!inputShape.every((d): d is number => typeof d === 'number' && d > 0)) {
    throw new Error(`findOptimalStimulus: expected a model with a fixed input shape, got [${inputShape.join(', ')}]`);
  }
  const shape = inputShape;
  const size = shape.reduce((a, b) => a * b, 1);
  const centreImage = options.centre ?? new Float32Array(size).fill((low + high) / 2);
  if (centreImage.length !== size || !centreImage.every((v) => v >= low && v <= high)) {
    throw new Error(`findOptimalStimulus: expected a centre of ${size} values in [${low}, ${high}], got ${centreImage.length} values`);
  }

  const prng = createPrng(seed);
  const start = new Float32Array(size);
  for (let i = 0; i < size; i++) start[i] = Math.min(high, Math.max(low, centreImage[i] + 0.01 * prng.nextNormal()));

  const outputShape = activationModel.outputs[0].shape;
  const units = outputShape[outputShape.length - 1];
  if (typeof units !== 'number' || (outputShape.length !== 2 && outputShape.length !== 4)) {
    throw new Error(`findOptimalStimulus: expected a layer output [n, units] or [n, h, w, c], got [${outputShape.join(', ')}]`);
  }
  if (!Number.isInteger(neuron) || neuron < 0 || neuron >= units) {
    throw new Error(`findOptimalStimulus: expected neuron in [0, ${units - 1}], got ${neuron}`);
  }

  // The neuron's activation for a batch of one image [1, ...shape] -> scalar.
  const activationOf = (x: tf.Tensor): tf.Scalar => {
    const out = activationModel.apply(x, { training: false }) as tf.Tensor;
    return neuronActivations(out).slice([0, neuron], [1, 1]).reshape<tf.Scalar>([]);
  };
  // What the ascent climbs: the activation, or for a saturating dense unit its pre-activation.
  const objectiveOf = preActivation(activationModel, neuron) ?? activationOf;
  const gradient = tf.valueAndGrad(objectiveOf);
  const centre = tf.tensor(centreImage, [1, ...shape]);
  const project = (x: tf.Tensor): tf.Tensor => {
    const deviation = tf.clipByValue(x, low, high).sub(centre);
    // Shrink onto the ball only when outside it: factor min(1, maxNorm / ||x - c||).
    const factor = tf.minimum(1, tf.div(maxNorm, tf.maximum(tf.norm(deviation), 1e-12)));
    return deviation.mul(factor).add(centre);
  };

  let x: tf.Tensor = tf.tidy(() => project(tf.tensor(start, [1, ...shape])));
  const trace: number[] = [];
  let best = { objective: -Infinity, value: -Infinity, image: start };
  try {
    for (let step = 0; step <= steps; step++) {
      const last = step === steps;
      const current = x;
      const { objective, value, next } = tf.tidy(() => {
        const { value: objective, grad } = gradient(current);
        const value = objectiveOf === activationOf ? objective : activationOf(current);
        if (last) return { objective, value, next: current };
        const length = tf.maximum(tf.norm(grad), 1e-12);
        return { objective, value, next: project(current.add(grad.div(length).mul(stepSize))) };
      });
      const reached = objective.dataSync()[0];
      const activation = value.dataSync()[0];
      tf.dispose([objective, value]);
      trace.push(activation);
      if (reached > best.objective) best = { objective: reached, value: activation, image: Float32Array.from(current.dataSync()) };
      if (next !== current) {
        current.dispose();
        x = next;
      }
    }
  } finally {
    x.dispose();
    centre.dispose();
  }
  return { image: best.image, activation: best.value, trace, ...(objectiveOf === activationOf ? {} : { preActivation: best.objective }) };
}

/** Activations whose gradient vanishes in float32 at large inputs (all increasing). */
const SATURATING = new Set(['sigmoid', 'tanh', 'hardSigmoid', 'softsign']);

/**
 * For a model ending in a dense layer with a saturating activation: unit `neuron`'s pre-activation
 * (input of the layer . kernel column + bias) as a function of the model's input; else undefined.
 */
function preActivation(model: tf.LayersModel, neuron: number): ((x: tf.Tensor) => tf.Scalar) | undefined {
  const layer = model.layers[model.layers.length - 1];
  const config = layer.getConfig() as { activation?: unknown; useBias?: unknown };
  if (layer.getClassName() !== 'Dense' || typeof config.activation !== 'string' || !SATURATING.has(config.activation)) return undefined;
  // The layer's input as a model output: a view on the same layers and weights (never disposed here).
  const before = tf.model({ inputs: model.inputs, outputs: layer.input });
  // Read at each call, inside the caller's tidy: the variables' own tensors, not copies.
  return (x) => {
    const [kernel, bias] = layer.getWeights();
    const h = before.apply(x, { training: false }) as tf.Tensor2D;
    const z = tf.matMul(h, kernel.slice([0, neuron], [kernel.shape[0], 1]) as tf.Tensor2D).reshape([]);
    return (config.useBias === false || bias === undefined ? z : z.add(bias.slice([neuron], [1]).reshape([]))) as tf.Scalar;
  };
}
