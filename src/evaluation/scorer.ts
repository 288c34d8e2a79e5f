import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UnreachableCaseError } from '../errors/unreachable';
import { mapPixelTensor } from '../images/pixel-range';
import { loadGraphModelFromDir, loadLayersModel } from '../models/io';
import type { Matrix } from './matrix';
import { parseScorerManifest, type ScorerManifest } from './scorer-manifest';

export const SCORER_MANIFEST_FILE = 'scorer.json';

export interface ScorerPredictOptions {
  /** Pixel range of `images`; defaults to the scorer's inputRange. Other ranges are rescaled linearly. */
  range?: [number, number];
  /** Images per forward pass; 256 keeps a 28x28 CNN's activations to a few tens of MB. */
  batchSize?: number;
}

export interface ScorerOutput {
  /** N x K class probabilities (float64 copies of the model's float32 softmax). */
  probs: Matrix;
  /** N x F features from the feature layer / node, flattened per image. */
  features: Matrix;
}

export interface Scorer {
  readonly manifest: ScorerManifest;
  /** Folder scorer.json was read from. */
  readonly dir: string;
  /** Length F of a feature vector. */
  readonly featureSize: number;
  /**
   * Class probabilities and features of `n` images stored row-major as [n, height, width, channels]
   * in `images`. Images of another size are resized with bilinear interpolation (half-pixel
   * centres, as TF2's tf.image.resize); one-channel images are tiled for a three-channel scorer.
   */
  predict(images: Float32Array, n: number, imageShape: readonly [number, number, number], options?: ScorerPredictOptions): Promise<ScorerOutput>;
  /** Frees the model's weights. */
  dispose(): void;
}

/** Runs one preprocessed batch [b, H, W, C] to [features [b, ...], probabilities [b, K]]. */
type Forward = (batch: tf.Tensor4D) => [tf.Tensor, tf.Tensor];

/** Reads dir/scorer.json, loads the model it names, and checks it with one zero image. */
export async function loadScorer(dir: string): Promise<Scorer> {
  const manifestPath = path.join(dir, SCORER_MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
  } catch (err) {
    throw new Error(`loadScorer: cannot read ${manifestPath}: ${(err as Error).message}`, { cause: err });
  }
  const manifest = parseScorerManifest(json, manifestPath);
  const modelDir = path.resolve(dir, manifest.model.path);
  const [h, w, c] = manifest.inputShape;
  let forward: Forward;
  let disposeModel: () => void;
  let modelInputShape: readonly (number | null)[] | undefined;
  const spec = manifest.model;
  switch (spec.format) {
    case 'layers-model': {
      const model = await loadLayersModel(modelDir);
      let featureOutput: tf.SymbolicTensor;
      try {
        featureOutput = model.getLayer(spec.featureLayer).output as tf.SymbolicTensor;
      } catch {
        model.dispose();
        throw new Error(
          `loadScorer: ${manifestPath}: model.featureLayer: expected one of the layers ${model.layers.map((l) => l.name).join(', ')}, got ${JSON.stringify(spec.featureLayer)}`,
        );
      }
      // A second view on the same layers (and weights) with both outputs.
      const both = tf.model({ inputs: model.inputs, outputs: [featureOutput, model.outputs[0]] });
      forward = (batch) => both.predict(batch) as [tf.Tensor, tf.Tensor];
      disposeModel = () => model.dispose();
      modelInputShape = model.inputs[0].shape;
      break;
    }
    case 'graph-model': {
      const model = await loadGraphModelFromDir(modelDir);
      forward = (batch) => model.execute(batch, [spec.featuresNode, spec.probabilitiesNode]) as [tf.Tensor, tf.Tensor];
      disposeModel = () => model.dispose();
      modelInputShape = model.inputs[0]?.shape;
      break;
    }
    default:
      throw new UnreachableCaseError(spec);
  }
  const wanted = [h, w, c];
  if (modelInputShape !== undefined && modelInputShape.length === 4) {
    const got = modelInputShape.slice(1);
    if (got.some((d, i) => d !== null && d !== -1 && d !== wanted[i])) {
      disposeModel();
      throw new Error(`loadScorer: ${manifestPath}: inputShape: expected the model's input [${got.join(', ')}], got [${wanted.join(', ')}]`);
    }
  }
  // A zero image proves the output names resolve and gives the output widths.
  let featureSize: number;
  try {
    const [f, p] = tf.tidy(() => forward(tf.zeros([1, h, w, c])));
    const probsShape = p.shape;
    featureSize = f.size;
    tf.dispose([f, p]);
    if (probsShape.length !== 2 || probsShape[1] !== manifest.classes) {
      throw new Error(`probabilities: expected shape [1, ${manifest.classes}] (classes), got [${probsShape.join(', ')}]`);
    }
  } catch (err) {
    disposeModel();
    throw new Error(`loadScorer: ${manifestPath}: ${(err as Error).message}`, { cause: err });
  }
  return new LoadedScorer(manifest, dir, featureSize, forward, disposeModel);
}

class LoadedScorer implements Scorer {
  constructor(
    readonly manifest: ScorerManifest,
    readonly dir: string,
    readonly featureSize: number,
    private readonly forward: Forward,
    private readonly disposeModel: () => void,
  ) {}

  async predict(images: Float32Array, n: number, imageShape: readonly [number, number, number], options: ScorerPredictOptions = {}): Promise<ScorerOutput> {
    const [h, w, c] = imageShape;
    const [H, W, C] = this.manifest.inputShape;
    const where = `scorer ${this.manifest.name}: predict`;
    if (!Number.isInteger(n) || n < 1) throw new Error(`${where}: expected a positive integer image count, got ${n}`);
    if (imageShape.length !== 3 || !imageShape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`${where}: expected imageShape [height, width, channels] of positive integers, got [${imageShape.join(', ')}]`);
    }
    const pixels = h * w * c;
    if (images.length !== n * pixels) throw new Error(`${where}: expected ${n} x ${h} x ${w} x ${c} = ${n * pixels} values, got ${images.length}`);
    if (c !== C && !(c === 1 && C === 3)) {
      throw new Error(`${where}: expected images with ${C} channel${C === 1 ? '' : 's'}${C === 3 ? ' (or 1, tiled to 3)' : ''}, got ${c}`);
    }
    const [r0, r1] = options.range ?? this.manifest.inputRange;
    if (!(Number.isFinite(r0) && Number.isFinite(r1) && r0 < r1)) throw new Error(`${where}: range: expected [min, max] with min < max, got [${r0}, ${r1}]`);
    const batchSize = options.batchSize ?? 256;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${where}: batchSize: expected a positive integer, got ${batchSize}`);
    const K = this.manifest.classes;
    const F = this.featureSize;
    const probs = new Float64Array(n * K);
    const features = new Float64Array(n * F);

    for (let start = 0; start < n; start += batchSize) {
      const b = Math.min(batchSize, n - start);
      const [f, p] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
        let x: tf.Tensor4D = tf.tensor4d(images.subarray(start * pixels, (start + b) * pixels), [b, h, w, c]);
        x = mapPixelTensor(x, [r0, r1], this.manifest.inputRange);
        if (c !== C) x = x.tile([1, 1, 1, C]);
        if (h !== H || w !== W) x = tf.image.resizeBilinear(x, [H, W], false, true);
        const [feat, prob] = this.forward(x);
        return [feat.reshape([b, -1]), prob];
      });
      // Read outside the tidy: a typed array returned from tidy is walked element by element.
      const [fd, pd] = await Promise.all([f.data(), p.data()]);
      tf.dispose([f, p]);
      if (fd.length !== b * F || pd.length !== b * K) {
        throw new Error(`${where}: expected ${F} features and ${K} probabilities per image, got ${fd.length / b} and ${pd.length / b}`);
      }
      features.set(fd, start * F);
      probs.set(pd, start * K);
    }
    return { probs: { data: probs, rows: n, cols: K }, features: { data: features, rows: n, cols: F } };
  }

  dispose(): void {
    this.disposeModel();
  }
}
