import type { ModelSpec } from './model-spec';

/** The forward passes the pool batches: a generator's (latents -> images) or a K+1 classifier's (images -> logits). */
export type InferencePass = 'generate' | 'classify';

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
   * Runs the K+1 classifier of `modelId` on `n` images laid out row-major in `images` (each
   * height*width*channels values in the classifier's input range) and returns the `n` x K logits
   * row-major (the "generated" logit, fixed at 0, is not among them). Takes `images` over, as generate.
   */
  classify(modelId: string, images: Float32Array, n: number): Promise<Float32Array>;
  /** Whether `modelId`'s classifier is loaded and `classify` serves it. */
  hasClassifier(modelId: string): boolean;
  /**
   * Loads a model version added after start (its generator, and its classifier if the spec has one)
   * wherever batches run; resolves once it can be served. An id already served is refused.
   */
  loadModel(spec: ModelSpec): Promise<void>;
  /**
   * Live tensors on the executor's backend(s), summed over workers, as last reported: flat over
   * many requests means no leak (tests and the soak bench watch it).
   */
  tensorCount(): number;
  close(): Promise<void>;
}
