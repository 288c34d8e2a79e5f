import * as tf from '@tensorflow/tfjs';
import { UnreachableCaseError } from '../errors/unreachable';
import { SeededGaussianNoise } from '../models/layers/seeded-gaussian-noise';

/**
 * The sparse autoencoder's loss and every weight's gradient, derived by hand for networks that are a
 * plain chain of dense layers: about 90 kernel calls a step, Adam's included, where tfjs's tape and
 * layers' apply made 274 (most of them tape bookkeeping and the small ops of the KL penalty). Same math as
 * AutoencoderTrainer's autodiff step:
 *   loss = mean((y - x)^2) + beta * mean_j KL(rho || rho_hat_j),  rho_hat = clip(batch mean of a sparse layer, eps, 1 - eps)
 * with y = decoder(encoder(x + noise)); the noise is the encoder's seeded layer's own draw.
 *
 * Backward, layer by layer from the output (a = act(z), z = h W + b, h the layer's input):
 *   dz = da * act'(z), read from a: sigmoid a (1 - a), tanh 1 - a^2, relu [a > 0], linear 1
 *   dW = h^T dz, db = column sums of dz, dh = dz W^T (not formed below the first weights)
 *   a sparse layer's da gains beta / (U n) * ((1 - rho) / (1 - rho_hat) - rho / rho_hat) on every row
 *   where rho_hat lies inside the clip (tfjs's clip gradient is 0 outside it), U the sparse units in all.
 *
 * Networks the chain does not describe (other layer kinds, branches, other activations, a sparse layer
 * that is not a dense one) get a reason instead, and the trainer keeps the autodiff step.
 */

/** Activations whose derivative the backward pass forms from the output alone. */
type DenseActivation = 'linear' | 'sigmoid' | 'relu' | 'tanh';
const DENSE_ACTIVATIONS: readonly string[] = ['linear', 'sigmoid', 'relu', 'tanh'];

/** One link of the chain, input side first. */
type Link =
  | { kind: 'reshape'; name: string; shape: number[] }
  | { kind: 'noise'; name: string; layer: SeededGaussianNoise }
  | { kind: 'dense'; name: string; kernel: tf.Variable; bias: tf.Variable | null; activation: DenseActivation };

/** Encoder then decoder as one chain, with which links carry the sparsity penalty. */
export interface DenseAutoencoderChain {
  readonly links: readonly Link[];
  /** Per entry of the trainer's sparseLayers (in its order, repeats kept): the index of its dense link. */
  readonly sparse: readonly number[];
}

/** Keeps rho_hat inside (0, 1) so the logs stay finite when a unit is dead or saturated (here and in klSparsityPenalty). */
export const RHO_HAT_EPSILON = 1e-6;

/** The chain's links of one model, or why it is not a plain chain of the layers above. */
function linksOf(model: tf.LayersModel, what: string): Link[] | string {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return `${what}: expected one input and one output`;
  const layers = model.layers;
  if (layers[0]?.getClassName() !== 'InputLayer') return `${what}: expected an input layer first`;
  const links: Link[] = [];
  for (let i = 1; i < layers.length; i++) {
    const layer = layers[i];
    let input: tf.SymbolicTensor | tf.SymbolicTensor[];
    try {
      // Throws for a layer applied more than once (a shared layer): not a chain.
      input = layer.input;
    } catch {
      return `${what}: layer ${layer.name} is applied more than once`;
    }
    if (input !== layers[i - 1].output) return `${what}: layer ${layer.name} does not take the previous layer's output`;
    const className = layer.getClassName();
    if (className === 'Flatten' || className === 'Reshape') {
      links.push({ kind: 'reshape', name: layer.name, shape: (layer.outputShape as (number | null)[]).slice(1) as number[] });
    } else if (layer instanceof SeededGaussianNoise) {
      links.push({ kind: 'noise', name: layer.name, layer });
    } else if (className === 'Dense') {
      const activation: unknown = layer.getConfig().activation;
      if (typeof activation !== 'string' || !DENSE_ACTIVATIONS.includes(activation))
        return `${what}: dense layer ${layer.name} has activation ${JSON.stringify(activation)} (expected ${DENSE_ACTIVATIONS.join(', ')})`;
      if ((layer.input as tf.SymbolicTensor).shape.length !== 2)
        return `${what}: dense layer ${layer.name} takes a rank-${(layer.input as tf.SymbolicTensor).shape.length} input`;
      const [kernel, bias] = layer.weights.map((w) => w.read() as tf.Variable); // LayerVariable.read() is the backing tf.Variable
      if (kernel === undefined || kernel.rank !== 2 || layer.weights.length > 2 || (bias !== undefined && bias.rank !== 1))
        return `${what}: dense layer ${layer.name} has weights of shapes ${layer.weights.map((w) => `[${w.shape}]`).join(', ')}`;
      links.push({ kind: 'dense', name: layer.name, kernel, bias: bias ?? null, activation: activation as DenseActivation });
    } else {
      return `${what}: layer ${layer.name} is a ${className}, which the explicit gradients do not cover`;
    }
  }
  if (layers[layers.length - 1].output !== model.outputs[0]) return `${what}: the last layer's output is not the model's output`;
  return links;
}

/**
 * encoder and decoder as one dense chain with its sparse layers, or a reason why the explicit
 * gradients do not apply (the trainer then uses tfjs's autodiff).
 */
export function denseAutoencoderChain(encoder: tf.LayersModel, decoder: tf.LayersModel, sparseLayers: readonly string[]): DenseAutoencoderChain | string {
  const encoderLinks = linksOf(encoder, 'encoder');
  if (typeof encoderLinks === 'string') return encoderLinks;
  const decoderLinks = linksOf(decoder, 'decoder');
  if (typeof decoderLinks === 'string') return decoderLinks;
  const links = [...encoderLinks, ...decoderLinks];
  const sparse: number[] = [];
  for (const name of sparseLayers) {
    const index = encoderLinks.findIndex((l) => l.name === name);
    if (index < 0 || encoderLinks[index].kind !== 'dense') return `sparse layer ${name} is not a dense layer of the encoder`;
    sparse.push(index);
  }
  return { links, sparse };
}

/** What one step computes: both loss terms and the gradient of every variable of the chain. */
export interface DenseAutoencoderStep {
  mse: tf.Scalar;
  /** sparsityWeight * the mean KL penalty (0 when the weight is 0). */
  penalty: tf.Scalar;
  gradients: Map<tf.Variable, tf.Tensor>;
}

/**
 * The loss and gradients of one step on `batch` (the encoder's input shape), the noise layers in
 * training mode (each draws its next value of the stream reseedNoise set). Call inside tf.tidy.
 */
export function denseAutoencoderStep(
  chain: DenseAutoencoderChain,
  batch: tf.Tensor,
  options: { sparsityTarget: number; sparsityWeight: number },
): DenseAutoencoderStep {
  const { links } = chain;
  const n = batch.shape[0];
  // outputs[i] is link i's output; inputs of link i are outputs[i - 1] (the batch for i = 0).
  const outputs: tf.Tensor[] = [];
  let x: tf.Tensor = batch;
  for (const link of links) {
    switch (link.kind) {
      case 'reshape':
        x = tf.reshape(x, [n, ...link.shape]);
        break;
      case 'noise':
        x = link.layer.call(x, { training: true });
        break;
      case 'dense':
        x = denseForward(x as tf.Tensor2D, link);
        break;
      default:
        throw new UnreachableCaseError(link);
    }
    outputs.push(x);
  }
  const inputOf = (i: number): tf.Tensor => (i === 0 ? batch : outputs[i - 1]);

  const diff = tf.sub(x, batch);
  const mse = tf.mean<tf.Scalar>(tf.square(diff));
  // d mean((y - x)^2) / dy
  let grad: tf.Tensor = tf.mul(diff, 2 / diff.size);

  const { sparsityTarget: rho, sparsityWeight: beta } = options;
  const extra = new Map<number, tf.Tensor>();
  let penalty: tf.Scalar;
  if (beta === 0 || chain.sparse.length === 0) {
    penalty = tf.scalar(0);
  } else {
    const means = chain.sparse.map((i) => tf.mean(outputs[i], 0));
    const rhoHat = means.length === 1 ? means[0] : tf.concat(means, 0);
    const clipped = tf.clipByValue(rhoHat, RHO_HAT_EPSILON, 1 - RHO_HAT_EPSILON);
    const oneMinus = tf.sub(1, clipped);
    const kl = tf.add(tf.mul(rho, tf.log(tf.div(rho, clipped))), tf.mul(1 - rho, tf.log(tf.div(1 - rho, oneMinus))));
    penalty = tf.mul(tf.mean<tf.Scalar>(kl), beta);
    // d penalty / d a[r, j] for every row r, zero where the clip held rho_hat.
    const inside = tf.cast(tf.equal(clipped, rhoHat), 'float32');
    const dRho = tf.mul(tf.mul(tf.sub(tf.div(1 - rho, oneMinus), tf.div(rho, clipped)), inside), beta / (rhoHat.size * n));
    const parts =
      means.length === 1
        ? [dRho]
        : tf.split(
            dRho,
            means.map((m) => m.size),
          );
    chain.sparse.forEach((i, k) => {
      const before = extra.get(i);
      extra.set(i, before === undefined ? parts[k] : tf.add(before, parts[k]));
    });
  }

  // Backward down to the first weights: below them no variable needs a gradient.
  const firstDense = links.findIndex((l) => l.kind === 'dense');
  const gradients = new Map<tf.Variable, tf.Tensor>();
  for (let i = links.length - 1; i >= firstDense && firstDense >= 0; i--) {
    const link = links[i];
    const sparseGrad = extra.get(i);
    if (sparseGrad !== undefined) grad = tf.add(grad, sparseGrad);
    const input = inputOf(i);
    switch (link.kind) {
      case 'reshape':
        grad = tf.reshape(grad, input.shape);
        break;
      case 'noise':
        // x + noise: the gradient passes unchanged.
        break;
      case 'dense': {
        const dz = activationGrad(grad, outputs[i], link.activation);
        gradients.set(link.kernel, tf.matMul(input, dz, true, false));
        if (link.bias !== null) gradients.set(link.bias, tf.sum(dz, 0));
        if (i > firstDense) grad = tf.matMul(dz, link.kernel, false, true);
        break;
      }
      default:
        throw new UnreachableCaseError(link);
    }
  }
  return { mse, penalty, gradients };
}

/** act(x W + b), with the bias and activation fused where tfjs fuses them (it has no fused tanh). */
function denseForward(x: tf.Tensor2D, link: Extract<Link, { kind: 'dense' }>): tf.Tensor {
  const bias = link.bias ?? undefined;
  if (link.activation === 'tanh') return tf.tanh(tf.fused.matMul({ a: x, b: link.kernel, bias }));
  return tf.fused.matMul({ a: x, b: link.kernel, bias, activation: link.activation });
}

/** dL/dz from dL/da and a = act(z). */
function activationGrad(da: tf.Tensor, a: tf.Tensor, activation: DenseActivation): tf.Tensor {
  switch (activation) {
    case 'linear':
      return da;
    case 'sigmoid':
      return tf.mul(da, tf.mul(a, tf.sub(1, a)));
    case 'tanh':
      return tf.mul(da, tf.sub(1, tf.square(a)));
    case 'relu':
      return tf.mul(da, tf.step(a));
    default:
      throw new UnreachableCaseError(activation);
  }
}
