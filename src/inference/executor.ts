import type { PngFormat } from '../images/png';
import type { FilterRemoval, LayerPass } from './layer-passes';
import type { ModelSpec } from './model-spec';
import type { ModelServing } from './onnx-sessions';

/**
 * The forward passes the pool batches: a generator's (latents -> images), a K+1 classifier's
 * (images -> logits), or one that reads a layer (LayerPass).
 */
export type InferencePass = 'generate' | 'classify' | 'layer';

/** Gradient ascent on one neuron of a feature network's layer (Le et al. 2012's optimal stimulus). */
export interface StimulusRequest {
  layer: string;
  /** Unit of a dense layer, or feature map of a conv layer (its spatial maximum is maximised). */
  neuron: number;
  steps: number;
  /** Length of each (normalised) gradient step, in pixels of the input range. */
  stepSize: number;
  /** The stimulus's L2 distance from `centre` stays at most this (pixels also stay in the input range). */
  maxNorm: number;
  /** The image the norm is measured from (the dataset's mean image); default: the centre of the input range. */
  centre?: Float32Array;
  /** Seed of the small random start. */
  seed: number;
}

export interface StimulusResult {
  /** height*width*channels values in the feature network's input range. */
  image: Float32Array;
  /** The neuron's activation for the image. */
  activation: number;
  /** Activation after each step. */
  trace: number[];
  /** A dense unit with a saturating activation (sigmoid, tanh): its pre-activation, which the ascent climbs. */
  preActivation?: number;
}

/** Runs forward passes. The pool decides what goes in a batch; an executor only computes it. */
export interface Executor {
  /** Human-readable description for logs and the API (e.g. "in-process wasm"). */
  readonly description: string;
  /** How many batches it can compute at once; the pool never hands it more. */
  readonly concurrency: number;
  /**
   * Runs the generator of `modelId` on `n` latents laid out row-major in `latents`
   * and returns the `n` images row-major (each height*width*channels values), on `engine` (one of
   * enginesOf(modelId, 'generate', removal); default the first; another fails the batch).
   * The executor may take `latents` over (a worker executor moves its buffer to the worker, leaving
   * the array empty here): do not read it afterwards.
   */
  generate(modelId: string, latents: Float32Array, n: number, removal?: FilterRemoval, engine?: string): Promise<Float32Array>;
  /**
   * generate, each image also encoded as a PNG in `format` (encodePngs) where it was computed: a
   * worker executor encodes on its worker thread, off the event loop. Optional: for an executor
   * without it, the pool encodes generate's output itself.
   */
  generatePngs?(
    modelId: string,
    latents: Float32Array,
    n: number,
    format: PngFormat,
    removal?: FilterRemoval,
    engine?: string,
  ): Promise<{ pixels: Float32Array; pngs: Buffer[] }>;
  /**
   * Runs the K+1 classifier of `modelId` on `n` images laid out row-major in `images` (each
   * height*width*channels values in the classifier's input range) and returns the `n` x K logits
   * row-major (the "generated" logit, fixed at 0, is not among them). Takes `images` over, as generate.
   */
  classify(modelId: string, images: Float32Array, n: number): Promise<Float32Array>;
  /** Whether `modelId`'s classifier is loaded and `classify` serves it. */
  hasClassifier(modelId: string): boolean;
  /** What computes each pass `modelId` has (generate, classify), and why not ONNX Runtime where it is tfjs. */
  servingOf(modelId: string): ModelServing;
  /**
   * The engines that can compute `pass` of `modelId` now, the one it uses by default first: its ONNX
   * Runtime engine ("onnxruntime", "onnxruntime-cuda") when ONNX Runtime serves it, then the tfjs
   * backend's name (alone for a generate with filters removed). A sample records the engine that made
   * it: its bytes depend on it.
   */
  enginesOf(modelId: string, pass: 'generate' | 'classify', removal?: FilterRemoval): string[];
  /**
   * Runs `pass` on `n` inputs row-major: images in the feature network's input range (featureMaps,
   * neurons) or latents (generatorMeans); returns the n outputs row-major. Takes `input` over, as generate.
   */
  layerPass(modelId: string, pass: LayerPass, input: Float32Array, n: number): Promise<Float32Array>;
  /** Whether `modelId`'s feature network is loaded (layerPass featureMaps/neurons and optimalStimulus serve it). */
  hasFeatureNetwork(modelId: string): boolean;
  /** Finds the optimal stimulus of one neuron of the feature network (one request, not batched). */
  optimalStimulus(modelId: string, request: StimulusRequest): Promise<StimulusResult>;
  /**
   * Loads a model version added after start (its generator, and its classifier and feature network if the spec has them)
   * wherever batches run; resolves once it can be served. An id already served is refused.
   */
  loadModel(spec: ModelSpec): Promise<void>;
  /**
   * Stops serving a model (archiveModel): batches of it not started yet are refused, one computing
   * now finishes, then its networks are released wherever batches run (a worker drops its copy once
   * its current batch is done). Workers started later do not load it. An unknown id does nothing.
   */
  unloadModel(modelId: string): Promise<void>;
  /**
   * Live tensors on the executor's backend(s), summed over workers, as last reported: flat over
   * many requests means no leak (tests and the soak bench watch it).
   */
  tensorCount(): number;
  close(): Promise<void>;
}
