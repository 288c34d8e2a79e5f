/** The side of the spatial grid each conv layer is max-pooled to (Radford et al. 2015, sec 5.1). */
export const POOL_GRID = 4;

/**
 * One layer's output for one image as a feature vector, DCGAN's protocol: a conv output [h, w, c]
 * (channels last, flattened) is max-pooled to a 4x4 grid per channel -> 16 * c values (cell-major:
 * cell (gy, gx) then channel); a dense output [units] is taken as is. Cells follow adaptive max
 * pooling (PyTorch's AdaptiveMaxPool2d): cell g of a side of n pixels spans [floor(g n / 4),
 * ceil((g + 1) n / 4)), so 7 pixels give cells of 2, 3, 3, 2 that overlap by one. A map smaller
 * than 4x4 on either side is reduced to its whole-map maximum -> c values.
 */
export function maxPoolFeatures(values: ArrayLike<number>, shape: readonly number[]): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new Error(`maxPoolFeatures: expected ${size} values for shape [${shape.join(', ')}], got ${values.length}`);
  if (shape.length === 1) return Float32Array.from(values);
  if (shape.length !== 3) throw new Error(`maxPoolFeatures: expected a shape [units] or [h, w, c], got [${shape.join(', ')}]`);
  const [h, w, c] = shape;
  const grid = h < POOL_GRID || w < POOL_GRID ? 1 : POOL_GRID;
  const out = new Float32Array(grid * grid * c).fill(-Infinity);
  for (let gy = 0; gy < grid; gy++) {
    const y0 = Math.floor((gy * h) / grid);
    const y1 = Math.ceil(((gy + 1) * h) / grid);
    for (let gx = 0; gx < grid; gx++) {
      const x0 = Math.floor((gx * w) / grid);
      const x1 = Math.ceil(((gx + 1) * w) / grid);
      const cell = (gy * grid + gx) * c;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const base = (y * w + x) * c;
          for (let k = 0; k < c; k++) if (values[base + k] > out[cell + k]) out[cell + k] = values[base + k];
        }
      }
    }
  }
  return out;
}

/** Length of maxPoolFeatures' output for a layer of this output shape. */
export function pooledFeatureCount(shape: readonly number[]): number {
  if (shape.length === 1) return shape[0];
  const [h, w, c] = shape;
  return h < POOL_GRID || w < POOL_GRID ? c : POOL_GRID * POOL_GRID * c;
}

/** Several layers' outputs for one image, each pooled, concatenated in the given order. */
export function concatenatedFeatures(layers: readonly { values: ArrayLike<number>; shape: readonly number[] }[]): Float32Array {
  const parts = layers.map((l) => maxPoolFeatures(l.values, l.shape));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
