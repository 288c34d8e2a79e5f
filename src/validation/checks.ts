import { badInput } from '../errors/ganql-error';

/** Short rendering of a value for an error message ("got ..."). */
export function describe(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (Array.isArray(value)) return `a list of length ${value.length}`;
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Throws BAD_USER_INPUT unless `value` is an integer in [min, max]. */
export function expectIntInRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badInput(`${name}: expected an integer in ${min}..${max}, got ${describe(value)}`);
  }
}

/** Throws BAD_USER_INPUT unless `values` has `length` finite numbers; returns them as float32. */
export function expectFiniteVector(name: string, values: readonly number[], length: number): Float32Array {
  if (values.length !== length) {
    throw badInput(`${name}: expected ${length} numbers (the model's latent size), got ${values.length}`);
  }
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw badInput(`${name}[${i}]: expected a finite number, got ${describe(v)}`);
    }
    if (Math.abs(v) > 3.4e38) throw badInput(`${name}[${i}]: expected a number within float32 range, got ${describe(v)}`);
    out[i] = v;
  }
  return out;
}
