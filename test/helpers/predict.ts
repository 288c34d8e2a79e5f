import * as tf from '@tensorflow/tfjs';

/** `model` on n inputs laid out row-major (each of the model's input shape), its outputs as one flat array. */
export function predictFloats(model: tf.LayersModel, input: Float32Array, n: number): Float32Array {
  const shape = model.inputs[0].shape.slice(1) as number[];
  const out = tf.tidy(() => model.predict(tf.tensor(input, [n, ...shape])) as tf.Tensor);
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return values;
}
