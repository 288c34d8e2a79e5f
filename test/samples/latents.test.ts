import { describe, expect, it } from 'vitest';
import { latentFromBytes, latentToBytes, seededLatents } from '../../src/samples/latents';

describe('seededLatents', () => {
  it('is reproducible, prefix-stable and seed-dependent', () => {
    const a = seededLatents(7, 4, 100);
    expect(seededLatents(7, 4, 100)).toEqual(a);
    expect(seededLatents(7, 2, 100)).toEqual(a.slice(0, 2));
    expect(seededLatents(8, 1, 100)[0]).not.toEqual(a[0]);
  });

  it('draws standard normal values', () => {
    const values = seededLatents(1, 200, 100).flatMap((z) => Array.from(z));
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });
});

describe('latent bytes', () => {
  it('round-trips float32 little-endian', () => {
    const z = Float32Array.from([0, -1.5, 3.25, 1e-7]);
    const bytes = latentToBytes(z);
    expect(Array.from(bytes.slice(4, 8))).toEqual([0, 0, 0xc0, 0xbf]);
    expect(latentFromBytes(bytes)).toEqual(z);
    expect(() => latentFromBytes(new Uint8Array(5))).toThrow('stored latent has 5 bytes, not a multiple of 4');
  });
});
