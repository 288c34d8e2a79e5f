import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** Bytes per stored value of each weight dtype (quantized weights store the quantization dtype). */
const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/**
 * Loads a tfjs-converter graph model (model.json with a GraphDef `modelTopology` and a
 * `weightsManifest` of shard files) from a folder on disk, without tfjs-node's file:// handler.
 * Errors name the offending path.
 */
export async function loadGraphModelFromDir(dir: string): Promise<tf.GraphModel> {
  const jsonPath = path.join(dir, 'model.json');
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(jsonPath, 'utf8'));
  } catch (err) {
    throw new Error(`loadGraphModelFromDir: cannot read ${jsonPath}: ${(err as Error).message}`);
  }
  if (!isGraphModelJson(json)) {
    throw new Error(`loadGraphModelFromDir: ${jsonPath}: expected { modelTopology: { node: [...] }, weightsManifest: [{ paths, weights }] }, got another shape`);
  }
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: Buffer[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const p of group.paths) {
        const shard = path.join(dir, p);
        try {
          buffers.push(await fs.readFile(shard));
        } catch (err) {
          throw new Error(`loadGraphModelFromDir: cannot read ${shard}: ${(err as Error).message}`);
        }
      }
    }
    const data = Buffer.concat(buffers);
    const expected = expectedBytes(specs);
    if (expected !== undefined && data.byteLength !== expected) {
      throw new Error(`loadGraphModelFromDir: weights of ${dir}: expected ${expected} bytes, got ${data.byteLength}`);
    }
    return [specs, data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)];
  });
  try {
    return await tf.loadGraphModel({ load: async () => artifacts });
  } catch (err) {
    throw new Error(`loadGraphModelFromDir: ${jsonPath}: ${(err as Error).message}`);
  }
}

/** Total bytes the specs describe, or undefined when a string weight makes it data-dependent. */
function expectedBytes(specs: tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const s of specs) {
    const dtype = s.quantization?.dtype ?? s.dtype;
    const bytes = BYTES[dtype];
    if (bytes === undefined) return undefined;
    total += s.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  return total;
}

function isGraphModelJson(value: unknown): value is tf.io.ModelJSON & { weightsManifest: tf.io.WeightsManifestConfig } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const topology = v.modelTopology as Record<string, unknown> | null | undefined;
  if (typeof topology !== 'object' || topology === null || !Array.isArray(topology.node) || !Array.isArray(v.weightsManifest)) return false;
  return v.weightsManifest.every((g: unknown) => {
    const group = g as Record<string, unknown> | null;
    return group !== null && Array.isArray(group.paths) && Array.isArray(group.weights);
  });
}
