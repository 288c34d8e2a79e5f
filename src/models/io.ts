import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/**
 * Writes `model` to dir/model.json + dir/weights.bin in the tfjs layers format (the same files
 * tfjs-node's file:// handler writes), without needing tfjs-node. Files are written to a temp
 * name and renamed, so a crash mid-save never leaves a half-written model behind.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (artifacts.modelTopology === undefined || artifacts.weightSpecs === undefined || artifacts.weightData === undefined) {
        throw new Error(`saveLayersModel(${dir}): expected topology, weight specs and weight data, got an incomplete model`);
      }
      const weights = Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs }],
      };
      await writeAtomic(path.join(dir, WEIGHTS_FILE), weights);
      await writeAtomic(path.join(dir, MODEL_FILE), Buffer.from(JSON.stringify(modelJson)));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
}

async function writeAtomic(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

/** Loads a model written by saveLayersModel (or tfjs-node) from dir; errors name the offending path. */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const where = 'loadLayersModel';
  const json = await readModelJson(dir, where, isLayersTopology, '{ modelTopology, weightsManifest: [{ paths, weights }] }');
  const { specs, weightData } = await readWeights(dir, json.weightsManifest, where);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
  } catch (err) {
    throw new Error(`${where}: ${path.join(dir, MODEL_FILE)}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Loads a tfjs-converter graph model (model.json with a GraphDef `modelTopology` and a
 * `weightsManifest` of shard files) from a folder on disk, without tfjs-node's file:// handler.
 * Errors name the offending path.
 */
export async function loadGraphModelFromDir(dir: string): Promise<tf.GraphModel> {
  const where = 'loadGraphModelFromDir';
  const json = await readModelJson(dir, where, isGraphTopology, '{ modelTopology: { node: [...] }, weightsManifest: [{ paths, weights }] }');
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const { specs, weightData } = await readWeights(dir, manifest, where);
    return [specs, weightData];
  });
  try {
    return await tf.loadGraphModel({ load: async () => artifacts });
  } catch (err) {
    throw new Error(`${where}: ${path.join(dir, MODEL_FILE)}: ${(err as Error).message}`, { cause: err });
  }
}

type ModelJsonWithWeights = tf.io.ModelJSON & { weightsManifest: tf.io.WeightsManifestConfig };

/** dir/model.json parsed and checked: `topologyFits` judges the modelTopology, `expected` names the shape in the error. */
async function readModelJson(dir: string, where: string, topologyFits: (topology: object) => boolean, expected: string): Promise<ModelJsonWithWeights> {
  const jsonPath = path.join(dir, MODEL_FILE);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (err) {
    throw new Error(`${where}: cannot read ${jsonPath}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}: ${jsonPath} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isModelJson(json) || !topologyFits(json.modelTopology)) {
    throw new Error(`${where}: ${jsonPath}: expected ${expected}, got another shape`);
  }
  return json;
}

/** Every weight shard the manifest names, read from dir and joined; the byte count is checked against the specs. */
async function readWeights(dir: string, manifest: tf.io.WeightsManifestConfig, where: string): Promise<{ specs: tf.io.WeightsManifestEntry[]; weightData: ArrayBuffer }> {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of manifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const shard = path.join(dir, p);
      try {
        buffers.push(await fs.readFile(shard));
      } catch (err) {
        throw new Error(`${where}: cannot read ${shard}: ${(err as Error).message}`, { cause: err });
      }
    }
  }
  const data = Buffer.concat(buffers);
  const expected = expectedBytes(specs);
  if (expected !== undefined && data.byteLength !== expected) {
    throw new Error(`${where}: weights of ${dir}: expected ${expected} bytes, got ${data.byteLength}`);
  }
  return { specs, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) };
}

/** Bytes per stored value of each weight dtype (quantized weights store the quantization dtype). */
const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Total bytes the specs describe, or undefined when a string weight makes it data-dependent. */
function expectedBytes(specs: tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const s of specs) {
    const bytes = BYTES[s.quantization?.dtype ?? s.dtype];
    if (bytes === undefined) return undefined;
    total += s.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  return total;
}

function isModelJson(value: unknown): value is ModelJsonWithWeights {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (typeof v.modelTopology !== 'object' || v.modelTopology === null || !Array.isArray(v.weightsManifest)) return false;
  return v.weightsManifest.every((g: unknown) => {
    const group = g as Record<string, unknown> | null;
    return group !== null && Array.isArray(group.paths) && Array.isArray(group.weights);
  });
}

/** A layers model's topology is any object (tf.loadLayersModel judges the rest). */
function isLayersTopology(): boolean {
  return true;
}

/** A graph model's topology is a GraphDef: an object with a `node` list. */
function isGraphTopology(topology: object): boolean {
  return Array.isArray((topology as { node?: unknown }).node);
}
