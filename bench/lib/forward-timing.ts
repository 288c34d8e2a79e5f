import * as tf from '@tensorflow/tfjs';

export interface ForwardTiming {
  batch: number;
  samplesPerSecond: number;
  msPerBatch: number;
}

/** Raw generator throughput at one batch size on the current backend, timed for about `seconds`. */
export function timeForward(generator: tf.LayersModel, latentSize: number, batch: number, seconds: number): ForwardTiming {
  const z = tf.randomNormal([batch, latentSize], 0, 1, 'float32', 1);
  const run = () => {
    const out = tf.tidy(() => generator.predict(z) as tf.Tensor);
    out.dataSync(); // read outside tidy: returning typed data from it makes tidy walk every element
    out.dispose();
  };
  try {
    run(); // warm-up: kernels compiled, buffers allocated
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      run();
      n++;
    }
    const msPerBatch = (performance.now() - start) / n;
    return { batch, samplesPerSecond: (batch * 1000) / msPerBatch, msPerBatch };
  } finally {
    z.dispose();
  }
}
