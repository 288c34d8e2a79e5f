import * as tf from '@tensorflow/tfjs';
import { loadLayersModel } from '../models/io';
// Registers ganql's custom layers, so a model that has one deserialises here and in every worker
// (which imports this module); the batch-dependent ones are then refused below for classifiers.
import '../models/layers/minibatch-discrimination';
import '../models/layers/seeded-gaussian-noise';
import '../models/layers/virtual-batch-norm';
import '../models/layers/weight-norm-dense';
import { foldWeightNorm } from './fold-weight-norm';
import type { ClassifierSpec } from './model-spec';

/**
 * Layers whose output for one image depends on the other images of its batch: served through the
 * pool's batching, a label would change with the neighbours a request happened to share a batch with.
 */
const BATCH_DEPENDENT = new Set(['MinibatchDiscrimination', 'VirtualBatchNormalization']);

/**
 * Loads the K+1 classifier of a model and checks it: input [n, height, width, channels] of the
 * model's image shape, output [n, K] logits, and no batch-dependent layer. Errors name the folder.
 * With `fold` (the default) it comes back as served: weight norm computed into plain kernels and
 * inference-time identities left out (see foldWeightNorm); for inference only.
 */
export async function loadClassifier(spec: ClassifierSpec, options: { fold?: boolean } = {}): Promise<tf.LayersModel> {
  let model: tf.LayersModel;
  try {
    model = await loadLayersModel(spec.dir);
  } catch (error) {
    throw new Error(`classifier ${spec.dir}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  try {
    checkClassifier(model, spec);
  } catch (error) {
    model.dispose();
    throw error;
  }
  if (options.fold === false) return model;
  try {
    return await foldWeightNorm(model);
  } catch (error) {
    throw new Error(`classifier ${spec.dir}: could not prepare it for serving: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    model.dispose();
  }
}

function checkClassifier(model: tf.LayersModel, spec: ClassifierSpec): void {
  const input = model.inputs.length === 1 ? model.inputs[0].shape : undefined;
  if (input === undefined || JSON.stringify(input.slice(1)) !== JSON.stringify(spec.imageShape)) {
    throw new Error(
      `classifier ${spec.dir}: expected one input of shape [n, ${spec.imageShape.join(', ')}] (the model's imageShape), got ${describeShapes(model.inputs)}`,
    );
  }
  const output = model.outputs.length === 1 ? model.outputs[0].shape : undefined;
  if (output === undefined || output.length !== 2 || output[1] !== spec.classes) {
    throw new Error(
      `classifier ${spec.dir}: expected one output of shape [n, ${spec.classes}] (one logit per class in the manifest), got ${describeShapes(model.outputs)}`,
    );
  }
  const dependent = model.layers.find((l) => BATCH_DEPENDENT.has(l.getClassName()));
  if (dependent !== undefined) {
    throw new Error(
      `classifier ${spec.dir}: expected layers that treat each image on its own, got ${dependent.getClassName()} layer "${dependent.name}", whose output depends on the rest of the batch`,
    );
  }
}

function describeShapes(tensors: readonly tf.SymbolicTensor[]): string {
  return tensors.map((t) => `[${t.shape.map((d) => (d === null ? 'n' : d)).join(', ')}]`).join(', ') || 'none';
}

/**
 * One forward pass of `classifier` on `n` images laid out row-major (each height*width*channels
 * values, already in the classifier's input range); returns the `n` x K logits row-major. Used by
 * every executor, so in-process and worker results are computed alike.
 */
export async function runClassifier(classifier: tf.LayersModel, images: Float32Array, n: number): Promise<Float32Array> {
  const shape = classifier.inputs[0].shape.slice(1) as number[];
  const size = shape.reduce((a, b) => a * b, 1);
  if (!Number.isInteger(n) || n < 1 || images.length !== n * size) {
    throw new Error(`executor: expected ${n * size} image values (${n} x ${shape.join('x')}), got ${images.length}`);
  }
  const logits = tf.tidy(() => classifier.predict(tf.tensor(images, [n, ...shape]), { batchSize: n }) as tf.Tensor);
  try {
    // Read outside tidy: returning typed data from it makes tidy walk every element.
    return (await logits.data()) as Float32Array;
  } finally {
    logits.dispose();
  }
}
