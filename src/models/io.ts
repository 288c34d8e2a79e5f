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
  const jsonPath = path.join(dir, MODEL_FILE);
  let text: string;
  try {
    text = await fs.readFile(jsonPath, 'utf8');
  } catch (err) {
    throw new Error(`loadLayersModel: cannot read ${jsonPath}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`loadLayersModel: ${jsonPath} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isModelJson(json)) {
    throw new Error(`loadLayersModel: ${jsonPath}: expected { modelTopology, weightsManifest: [{ paths, weights }] }, got another shape`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const weightsPath = path.join(dir, p);
      try {
        buffers.push(await fs.readFile(weightsPath));
      } catch (err) {
        throw new Error(`loadLayersModel: cannot read ${weightsPath}: ${(err as Error).message}`);
      }
    }
  }
  const data = Buffer.concat(buffers);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (data.byteLength !== expected) {
    throw new Error(`loadLayersModel: weights of ${dir}: expected ${expected} bytes, got ${data.byteLength}`);
  }
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
  } catch (err) {
    throw new Error(`loadLayersModel: ${jsonPath}: ${(err as Error).message}`);
  }
}

function isModelJson(value: unknown): value is tf.io.ModelJSON & { weightsManifest: tf.io.WeightsManifestConfig } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (typeof v.modelTopology !== 'object' || v.modelTopology === null || !Array.isArray(v.weightsManifest)) return false;
  return v.weightsManifest.every((g: unknown) => {
    const group = g as Record<string, unknown> | null;
    return group !== null && Array.isArray(group.paths) && Array.isArray(group.weights);
  });
}
