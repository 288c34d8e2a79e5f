import * as fs from 'node:fs/promises';
import * as zlib from 'node:zlib';

/**
 * The IDX format of LeCun's MNIST files (and Fashion-MNIST): two zero bytes, a dtype byte, a
 * dimension count byte, one big-endian uint32 per dimension, then the values big-endian, row-major.
 */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  dtype: IdxDtype;
  /** Dimensions, outermost first (e.g. [60000, 28, 28] for MNIST images). */
  shape: number[];
  /** Values in native byte order, row-major. */
  data: IdxData;
}

const DTYPES: Record<number, { dtype: IdxDtype; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** Parses an IDX buffer (already gunzipped); `source` names it in errors. */
export function parseIdx(buffer: Uint8Array, source = 'IDX data'): IdxArray {
  if (buffer.length < 4) throw new Error(`${source}: expected at least a 4-byte IDX header, got ${buffer.length} bytes`);
  if (buffer[0] !== 0 || buffer[1] !== 0) {
    throw new Error(`${source}: expected the IDX magic to start with two zero bytes, got ${hex(buffer[0])} ${hex(buffer[1])}`);
  }
  const type = DTYPES[buffer[2]];
  if (type === undefined) {
    throw new Error(`${source}: expected an IDX dtype byte among ${Object.keys(DTYPES).map((k) => hex(Number(k))).join(', ')}, got ${hex(buffer[2])}`);
  }
  const ndims = buffer[3];
  const headerBytes = 4 + 4 * ndims;
  if (buffer.length < headerBytes) throw new Error(`${source}: expected ${headerBytes} header bytes for ${ndims} dimensions, got ${buffer.length}`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndims; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (buffer.length !== expected) {
    throw new Error(`${source}: expected ${expected} bytes for ${type.dtype} [${shape.join(', ')}], got ${buffer.length}`);
  }
  return { dtype: type.dtype, shape, data: readValues(view, headerBytes, count, type.dtype) };
}

function readValues(view: DataView, offset: number, count: number, dtype: IdxDtype): IdxData {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Reads an IDX file, gunzipping it when it starts with the gzip magic (1f 8b). */
export async function readIdxFile(file: string): Promise<IdxArray> {
  let raw: Buffer;
  try {
    raw = await fs.readFile(file);
  } catch (err) {
    throw new Error(`readIdxFile: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let bytes: Buffer = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(raw);
    } catch (err) {
      throw new Error(`readIdxFile: ${file}: expected valid gzip data, got ${(err as Error).message}`, { cause: err });
    }
  }
  return parseIdx(bytes, file);
}
