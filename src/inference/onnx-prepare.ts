import type * as tf from '@tensorflow/tfjs';
import { createPrng } from '../data/prng';
import { loadServedGenerator } from '../models/served-generator';
import { OnnxExportError } from '../onnx/onnx-export-error';
import { ensureOnnxFile, type OnnxFileResult, type OnnxRole } from '../onnx/onnx-file';
import { OnnxSession } from '../onnx/onnx-session';
import { loadClassifier, runClassifier } from './classifier';
import type { ClassifierSpec, ModelSpec } from './model-spec';
import type { NetworkPlan, OnnxPlan, OnnxServing } from './onnx-sessions';
import { runGenerator } from './run-generator';

/** Seeded inputs each network runs through tfjs and ONNX Runtime before ONNX Runtime may serve it. */
export const ONNX_CHECK_ITEMS = 8;
/** Largest difference allowed between the two engines' outputs on them (images in [-1, 1], logits). */
export const ONNX_CHECK_TOLERANCE = 1e-4;
/** Seed of the check inputs: the same check on every start and every replica. */
const CHECK_SEED = 18;

/**
 * Decides, on this thread, how ONNX Runtime serves a model's generator and classifier (those it
 * has): each network's ONNX file (read when current, else exported again and written beside the
 * network, or kept in memory when the folder is not writable), then run on ONNX_CHECK_ITEMS seeded
 * inputs through the served tfjs network and through ONNX Runtime. A network that cannot be exported,
 * that ONNX Runtime cannot load, or whose outputs differ by more than ONNX_CHECK_TOLERANCE stays on
 * tfjs, with the reason in its plan. Needs a tfjs backend on this thread.
 */
export async function prepareOnnx(spec: ModelSpec, serving: OnnxServing): Promise<OnnxPlan> {
  const plan: OnnxPlan = {};
  if (spec.dir !== undefined) {
    const dir = spec.dir;
    plan.generator = await prepareNetwork(dir, 'generator', serving, () => loadServedGenerator(dir), checkLatents, runGenerator);
  }
  const classifier = spec.classifier;
  if (classifier !== undefined) {
    plan.classifier = await prepareNetwork(classifier.dir, 'classifier', serving, () => loadClassifier(classifier), checkImages(classifier), runClassifier);
  }
  return plan;
}

type Run = (model: tf.LayersModel, input: Float32Array, n: number) => Promise<Float32Array>;

async function prepareNetwork(
  dir: string,
  role: OnnxRole,
  serving: OnnxServing,
  loadTfjs: () => Promise<tf.LayersModel>,
  inputsFor: (model: tf.LayersModel) => Float32Array,
  run: Run,
): Promise<NetworkPlan> {
  let file: OnnxFileResult;
  try {
    file = await ensureOnnxFile(dir, role);
  } catch (error) {
    const what = error instanceof OnnxExportError ? 'ONNX export refused' : 'ONNX export failed';
    return { engine: 'tfjs', reason: `${what}: ${messageOf(error)}` };
  }
  const source = file.source === 'read' ? `${file.file} (read)` : `${file.file}: ${file.note}`;
  const model = await loadTfjs();
  let session: OnnxSession | undefined;
  try {
    const input = inputsFor(model);
    const expected = await run(model, input, ONNX_CHECK_ITEMS);
    try {
      session = await OnnxSession.create(serving.runtime, file.bytes, serving);
    } catch (error) {
      return { engine: 'tfjs', reason: `onnxruntime could not load the export (${source}): ${messageOf(error)}` };
    }
    const got = await session.run(input, ONNX_CHECK_ITEMS);
    const diff = maxAbsDiff(got, expected);
    if (!(diff <= ONNX_CHECK_TOLERANCE)) {
      const inputs = role === 'generator' ? 'latents' : 'images';
      return {
        engine: 'tfjs',
        reason: `ONNX check failed: outputs differ from tfjs by up to ${diff.toExponential(2)} on ${ONNX_CHECK_ITEMS} seeded ${inputs} (at most ${ONNX_CHECK_TOLERANCE} allowed; ${source})`,
      };
    }
    return { engine: 'onnx', bytes: file.bytes, source, maxAbsDiff: diff };
  } finally {
    await session?.release();
    model.dispose();
  }
}

/** Standard normal latents of the generator's input size. */
function checkLatents(generator: tf.LayersModel): Float32Array {
  const size = itemSize(generator);
  const prng = createPrng(CHECK_SEED);
  return Float32Array.from({ length: ONNX_CHECK_ITEMS * size }, prng.nextNormal);
}

/** Uniform images in the classifier's input range. */
function checkImages(spec: ClassifierSpec): (classifier: tf.LayersModel) => Float32Array {
  const [low, high] = spec.inputRange ?? [-1, 1];
  return (classifier) => {
    const prng = createPrng(CHECK_SEED);
    return Float32Array.from({ length: ONNX_CHECK_ITEMS * itemSize(classifier) }, () => low + (high - low) * prng.next());
  };
}

function itemSize(model: tf.LayersModel): number {
  return (model.inputs[0].shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
}

/** NaN anywhere counts as a difference larger than any tolerance. */
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return max;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
