/** Runs forward passes. The pool decides what goes in a batch; an executor only computes it. */
export interface Executor {
  /** Human-readable description for logs and the API (e.g. "in-process wasm"). */
  readonly description: string;
  /** How many batches it can compute at once; the pool never hands it more. */
  readonly concurrency: number;
  /**
   * Runs the generator of `modelId` on `n` latents laid out row-major in `latents`
   * and returns the `n` images row-major (each height*width*channels values).
   */
  generate(modelId: string, latents: Float32Array, n: number): Promise<Float32Array>;
  close(): Promise<void>;
}
