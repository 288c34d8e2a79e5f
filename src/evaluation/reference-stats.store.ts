import type { Prisma } from '../db/database';
import type { ReferenceFeatures } from './compute-metrics';

/** Which cached statistics: one scorer version on one split of one dataset. */
export interface ReferenceKey {
  scorer: string;
  /** sha256 of the scorer's files; statistics of another digest are stale. */
  scorerDigest: string;
  dataset: string;
  split: string;
}

/** Reads and writes ReferenceStats rows: FID/KID reference features, computed once per scorer version. */
export class ReferenceStatsStore {
  constructor(private readonly prisma: Prisma) {}

  /** The cached features of `key`, or undefined when there are none or they are of another scorer version. */
  async get(key: ReferenceKey): Promise<ReferenceFeatures | undefined> {
    const row = await this.prisma.referenceStats.findUnique({
      where: { scorer_dataset_split: { scorer: key.scorer, dataset: key.dataset, split: key.split } },
    });
    if (!row || row.scorerDigest !== key.scorerDigest) return undefined;
    return {
      stats: { dim: row.dim, count: row.count, mean: float64FromBytes(row.mean, row.dim), cov: float64FromBytes(row.cov, row.dim * row.dim) },
      features: { data: float32FromBytes(row.features, row.featureCount * row.dim), rows: row.featureCount, cols: row.dim },
    };
  }

  /** Stores (or replaces) the features of `key`. */
  async put(key: ReferenceKey, reference: ReferenceFeatures): Promise<void> {
    const { stats, features } = reference;
    const data = {
      scorerDigest: key.scorerDigest,
      count: stats.count,
      dim: stats.dim,
      mean: float64ToBytes(stats.mean),
      cov: float64ToBytes(stats.cov),
      featureCount: features.rows,
      // The scorer's outputs are float32: stored as float32, they come back exactly.
      features: float32ToBytes(features.data),
      createdAt: new Date(),
    };
    await this.prisma.referenceStats.upsert({
      where: { scorer_dataset_split: { scorer: key.scorer, dataset: key.dataset, split: key.split } },
      create: { scorer: key.scorer, dataset: key.dataset, split: key.split, ...data },
      update: data,
    });
  }
}

/** Float64 little-endian bytes. */
export function float64ToBytes(values: ArrayLike<number>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true);
  return out;
}

export function float64FromBytes(bytes: Uint8Array, count: number): Float64Array {
  if (bytes.length !== count * 8) throw new Error(`float64FromBytes: expected ${count * 8} bytes (${count} values), got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float64Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
}

/** Float32 little-endian bytes. */
export function float32ToBytes(values: ArrayLike<number>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

export function float32FromBytes(bytes: Uint8Array, count: number): Float32Array {
  if (bytes.length !== count * 4) throw new Error(`float32FromBytes: expected ${count * 4} bytes (${count} values), got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
