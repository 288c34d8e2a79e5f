import { createPrng } from '../data/prng';

/**
 * `count` latent vectors of standard normal noise from `seed`. Vector i depends only on the seed and
 * i, so the first k vectors of a larger request equal a request for k.
 */
export function seededLatents(seed: number, count: number, latentSize: number): Float32Array[] {
  return seededLatentStream(seed, latentSize)(count);
}

/**
 * The vectors of seededLatents(seed, ...) in installments: each call returns the next `count`, so
 * a long job (an evaluation of 50,000 samples) draws them chunk by chunk, identical to one call.
 */
export function seededLatentStream(seed: number, latentSize: number): (count: number) => Float32Array[] {
  const prng = createPrng(seed);
  return (count) =>
    Array.from({ length: count }, () => {
      const z = new Float32Array(latentSize);
      for (let j = 0; j < latentSize; j++) z[j] = prng.nextNormal();
      return z;
    });
}

/** Float32 little-endian bytes, as stored in Sample.latent. */
export function latentToBytes(latent: Float32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(latent.length * 4);
  const view = new DataView(out.buffer);
  latent.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

export function latentFromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new Error(`stored latent has ${bytes.length} bytes, not a multiple of 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
