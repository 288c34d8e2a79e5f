import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { initBackend } from '../../src/backend/backend';
import { saveLayersModel } from '../../src/models/io';
import { exportModelDir } from '../../src/onnx/export-model-dir';
import {
  ensureOnnxFile,
  EXPORTER_KEY,
  exportOnnxFile,
  ONNX_EXPORTER_VERSION,
  onnxFileOf,
  readOnnxFile,
  SOURCE_KEY,
  sourceHash,
  writeOnnxFile,
} from '../../src/onnx/onnx-file';
import { OnnxExportError } from '../../src/onnx/onnx-export-error';

/** A small dense generator, seeded: 4 -> 6 (relu) -> 3 (tanh). */
function denseNetwork(seed: number): tf.LayersModel {
  const init = tf.initializers.glorotUniform({ seed });
  const z = tf.input({ shape: [4] });
  const hidden = tf.layers.dense({ units: 6, activation: 'relu', kernelInitializer: init }).apply(z) as tf.SymbolicTensor;
  return tf.model({ inputs: z, outputs: tf.layers.dense({ units: 3, activation: 'tanh', kernelInitializer: init }).apply(hidden) as tf.SymbolicTensor });
}

function metadataOf(bytes: Uint8Array): Record<string, string> {
  return Object.fromEntries(onnx.ModelProto.decode(bytes).metadataProps.map((p) => [p.key, p.value]));
}

describe('ONNX files beside tfjs networks', () => {
  let root: string;
  let network: string;

  beforeAll(async () => {
    await initBackend({ order: ['cpu'] });
    root = mkdtempSync(path.join(os.tmpdir(), 'ganql-onnx-file-'));
    network = path.join(root, 'v1', 'generator');
    const model = denseNetwork(1);
    await saveLayersModel(model, network);
    model.dispose();
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is named after the network folder, beside it', () => {
    expect(onnxFileOf(network)).toBe(path.join(root, 'v1', 'generator.onnx'));
    expect(onnxFileOf(`${network}/`)).toBe(path.join(root, 'v1', 'generator.onnx'));
  });

  it('records the SHA-256 of model.json and the weights, and the exporter, in metadata_props; the graph is the plain export', async () => {
    const bytes = await exportOnnxFile(network, 'generator');
    const hash = await sourceHash(network);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(metadataOf(bytes)).toEqual({ [SOURCE_KEY]: hash, [EXPORTER_KEY]: ONNX_EXPORTER_VERSION });
    const graph = onnx.ModelProto.decode(bytes).graph!;
    expect([graph.input?.[0].name, graph.output?.[0].name]).toEqual(['latent', 'image']);
    // The same graph as an export without metadata.
    const plain = onnx.ModelProto.decode(await exportModelDir(network, { inputName: 'latent', outputName: 'image' }));
    expect(onnx.GraphProto.encode(graph).finish()).toEqual(onnx.GraphProto.encode(plain.graph!).finish());
    // A classifier's graph reads images and writes logits.
    const classifier = onnx.ModelProto.decode(await exportOnnxFile(network, 'classifier')).graph!;
    expect([classifier.input?.[0].name, classifier.output?.[0].name]).toEqual(['image', 'logits']);
  });

  it('is missing, then current once written, then stale when the weights change or another exporter wrote it', async () => {
    expect(await readOnnxFile(network)).toEqual({ state: 'missing' });
    const written = await writeOnnxFile(network, 'generator');
    const current = await readOnnxFile(network);
    expect(current.state).toBe('current');
    expect(current.state === 'current' && Buffer.from(current.bytes).equals(Buffer.from(written))).toBe(true);

    const other = mkdtempSync(path.join(root, 'exporter-'));
    const copy = path.join(other, 'generator');
    mkdirSync(copy);
    for (const f of ['model.json', 'weights.bin']) writeFileSync(path.join(copy, f), readFileSync(path.join(network, f)));
    const older = await exportModelDir(copy, { metadata: { [SOURCE_KEY]: await sourceHash(copy), [EXPORTER_KEY]: '0' } });
    writeFileSync(onnxFileOf(copy), older);
    expect(await readOnnxFile(copy)).toEqual({ state: 'stale', reason: `written by exporter 0, this is exporter ${ONNX_EXPORTER_VERSION}` });
    writeFileSync(onnxFileOf(copy), Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    expect(await readOnnxFile(copy)).toMatchObject({ state: 'stale', reason: expect.stringMatching(/^it is not an ONNX model: /) });

    // New weights in the same folder: the file no longer matches them.
    await writeOnnxFile(copy, 'generator');
    const retrained = denseNetwork(2);
    await saveLayersModel(retrained, copy);
    retrained.dispose();
    expect(await readOnnxFile(copy)).toEqual({ state: 'stale', reason: 'the tfjs weights changed since it was written' });
  });

  it('ensureOnnxFile reads a current file, exports and writes a stale one, and keeps one in memory when the file cannot be written', async () => {
    const folder = mkdtempSync(path.join(root, 'ensure-'));
    const dir = path.join(folder, 'decoder');
    const model = denseNetwork(3);
    await saveLayersModel(model, dir);
    model.dispose();

    const first = await ensureOnnxFile(dir, 'generator');
    expect(first).toMatchObject({ file: path.join(folder, 'decoder.onnx'), source: 'written', note: 'no ONNX file: exported and written' });
    expect(Buffer.from(readFileSync(first.file)).equals(Buffer.from(first.bytes))).toBe(true);
    const second = await ensureOnnxFile(dir, 'generator');
    expect(second).toMatchObject({ source: 'read' });
    expect(second.note).toBeUndefined();
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);

    const retrained = denseNetwork(4);
    await saveLayersModel(retrained, dir);
    retrained.dispose();
    const third = await ensureOnnxFile(dir, 'generator');
    expect(third).toMatchObject({ source: 'written', note: 'the ONNX file was stale (the tfjs weights changed since it was written): exported and written' });
    expect(Buffer.from(third.bytes).equals(Buffer.from(first.bytes))).toBe(false);

    // A folder where the file cannot go (a directory holds its name: root ignores permissions, not that).
    rmSync(first.file);
    mkdirSync(path.join(first.file, 'blocked'), { recursive: true });
    const fourth = await ensureOnnxFile(dir, 'generator');
    expect(fourth.source).toBe('memory');
    expect(fourth.note).toMatch(/^the ONNX file was stale \(it cannot be read: EISDIR.*\): exported and kept in memory, not written \(.*\)$/);
    expect(Buffer.from(fourth.bytes).equals(Buffer.from(third.bytes))).toBe(true);
    expect(readdirNames(folder)).toEqual(['decoder', 'decoder.onnx']);
  });

  it('throws OnnxExportError for a network with a layer the exporter does not write, and writes nothing', async () => {
    const folder = mkdtempSync(path.join(root, 'refused-'));
    const dir = path.join(folder, 'generator');
    const z = tf.input({ shape: [4] });
    const image = tf.layers.reshape({ targetShape: [2, 2, 1] }).apply(z) as tf.SymbolicTensor;
    const model = tf.model({ inputs: z, outputs: tf.layers.upSampling2d({ size: [2, 2] }).apply(image) as tf.SymbolicTensor });
    await saveLayersModel(model, dir);
    model.dispose();
    await expect(ensureOnnxFile(dir, 'generator')).rejects.toBeInstanceOf(OnnxExportError);
    expect(readdirNames(folder)).toEqual(['generator']);
  });
});

function readdirNames(dir: string): string[] {
  return readdirSync(dir).sort();
}
