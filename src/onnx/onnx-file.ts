import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { onnx } from 'onnx-proto';
import { exportModelDir } from './export-model-dir';

/**
 * Bump when the exporter writes a different graph for the same weights: files an older exporter
 * wrote are then stale and exported again.
 */
export const ONNX_EXPORTER_VERSION = '1';

/** metadata_props keys of a ganql ONNX file: what it was exported from, and by which exporter. */
export const SOURCE_KEY = 'ganql.source_sha256';
export const EXPORTER_KEY = 'ganql.exporter';

/** What a network does, which names its graph's input and output. */
export type OnnxRole = 'generator' | 'classifier';

const NAMES: Record<OnnxRole, { inputName: string; outputName: string }> = {
  generator: { inputName: 'latent', outputName: 'image' },
  classifier: { inputName: 'image', outputName: 'logits' },
};

/** The ONNX file of a tfjs network folder: beside it, named after it (`generator/` -> `generator.onnx`). */
export function onnxFileOf(networkDir: string): string {
  return `${path.resolve(networkDir)}.onnx`;
}

/** SHA-256 of the folder's model.json and of every weight file it names, in order: what an ONNX file records it came from. */
export async function sourceHash(networkDir: string): Promise<string> {
  const json = await fs.readFile(path.join(networkDir, 'model.json'));
  const hash = createHash('sha256').update(json);
  const parsed = JSON.parse(json.toString('utf8')) as { weightsManifest?: { paths?: unknown }[] };
  for (const group of parsed.weightsManifest ?? []) {
    const paths = Array.isArray(group.paths) ? group.paths : [];
    for (const p of paths) {
      if (typeof p !== 'string') throw new Error(`${path.join(networkDir, 'model.json')}: expected weight paths as strings, got ${JSON.stringify(p)}`);
      hash.update(await fs.readFile(path.join(networkDir, p)));
    }
  }
  return hash.digest('hex');
}

/** The network folder exported to ONNX as served, its source hash and the exporter's version recorded in its metadata. */
export async function exportOnnxFile(networkDir: string, role: OnnxRole): Promise<Uint8Array> {
  const metadata = { [SOURCE_KEY]: await sourceHash(networkDir), [EXPORTER_KEY]: ONNX_EXPORTER_VERSION };
  return exportModelDir(networkDir, { ...NAMES[role], metadata });
}

/**
 * Exports the network folder and writes its ONNX file beside it. Throws OnnxExportError when a layer
 * cannot be exported, and the file system's error when it cannot be written.
 */
export async function writeOnnxFile(networkDir: string, role: OnnxRole): Promise<Uint8Array> {
  const bytes = await exportOnnxFile(networkDir, role);
  await writeBytes(onnxFileOf(networkDir), bytes);
  return bytes;
}

/** Writes under a temporary name, then renames, so a reader never sees half a file. */
async function writeBytes(file: string, bytes: Uint8Array): Promise<void> {
  // Unique per call: several processes (or threads) may write the same file at once; the last rename wins, with the same bytes.
  const tmp = `${file}.tmp-${randomUUID()}`;
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
}

/** An ONNX file as found beside its network: current (made from these weights by this exporter), missing, or stale (why). */
export type OnnxFileState = { state: 'current'; bytes: Uint8Array } | { state: 'missing' } | { state: 'stale'; reason: string };

/** Reads the network's ONNX file and tells whether it still matches the folder's weights and this exporter. */
export async function readOnnxFile(networkDir: string): Promise<OnnxFileState> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(onnxFileOf(networkDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'stale', reason: `it cannot be read: ${messageOf(error)}` };
  }
  let metadata: Map<string, string>;
  try {
    metadata = new Map(onnx.ModelProto.decode(bytes).metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
  } catch (error) {
    return { state: 'stale', reason: `it is not an ONNX model: ${messageOf(error)}` };
  }
  const exporter = metadata.get(EXPORTER_KEY);
  if (exporter !== ONNX_EXPORTER_VERSION)
    return { state: 'stale', reason: `written by exporter ${exporter ?? '(none)'}, this is exporter ${ONNX_EXPORTER_VERSION}` };
  if (metadata.get(SOURCE_KEY) !== (await sourceHash(networkDir))) return { state: 'stale', reason: 'the tfjs weights changed since it was written' };
  return { state: 'current', bytes };
}

/** An exported network's ONNX bytes, and where they came from. */
export interface OnnxFileResult {
  bytes: Uint8Array;
  file: string;
  /** 'read': the file was current; 'written': exported and written now; 'memory': exported now, and the file could not be written. */
  source: 'read' | 'written' | 'memory';
  /** Why it was exported again (missing, stale), and why it was not written; absent when read. */
  note?: string;
}

/**
 * The network's ONNX bytes: its file when current; otherwise exported again and written beside the
 * network, or kept in memory when the folder is not writable. Throws OnnxExportError when a layer
 * cannot be exported.
 */
export async function ensureOnnxFile(networkDir: string, role: OnnxRole): Promise<OnnxFileResult> {
  const file = onnxFileOf(networkDir);
  const found = await readOnnxFile(networkDir);
  if (found.state === 'current') return { bytes: found.bytes, file, source: 'read' };
  const why = found.state === 'missing' ? 'no ONNX file' : `the ONNX file was stale (${found.reason})`;
  const bytes = await exportOnnxFile(networkDir, role);
  try {
    await writeBytes(file, bytes);
    return { bytes, file, source: 'written', note: `${why}: exported and written` };
  } catch (error) {
    if (!isFileSystemError(error)) throw error;
    return { bytes, file, source: 'memory', note: `${why}: exported and kept in memory, not written (${messageOf(error)})` };
  }
}

function isFileSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall !== undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
