/** Runs forward passes. The pool decides what goes in a batch; an executor only computes it. */
export interface Executor {
  /** Human-readable description for logs and the API (e.g. "in-process wasm"). */
  readonly description: string;
  /** How many batches it can compute at once; the pool never hands it more. */
  readonly concurrency: number;
  /**
   * Runs the generator of `modelId` on `n` latents laid out row-major in `latents`
   * and returns the `n` images row-major (each height*width*channels values).
   * The executor may take `latents` over (a worker executor moves its buffer to the worker, leaving
   * the array empty here): do not read it afterwards.
   */
  generate(modelId: string, latents: Float32Array, n: number): Promise<Float32Array>;
  /**
   * Live tensors on the executor's backend(s), summed over workers, as last reported: flat over
   * many requests means no leak (tests and the soak bench watch it).
   */
  tensorCount(): number;
  close(): Promise<void>;
}
