/** Command-line options of ganql's CLIs: `--name value`, `--name=value` and bare boolean `--flag`s. */
export interface Flags {
  /** The value given for `name`, if any. */
  get(name: string): string | undefined;
  has(name: string): boolean;
  /** The value of `name`; an error naming it when absent. */
  required(name: string): string;
  /**
   * An integer >= min (and <= max when given); `fallback` when absent, else required.
   * Errors say "expected an integer >= min" or "expected an integer in min..max".
   */
  int(name: string, min: number, options?: { max?: number; fallback?: number }): number;
  /** A number in (min, max), or [min, max) when minIncluded; `fallback` when absent. */
  real(name: string, min: number, max: number, fallback: number, minIncluded?: boolean): number;
}

export interface FlagSpec {
  /** Options that take a value. */
  options: readonly string[];
  /** Options that take none (present or not). */
  flags?: readonly string[];
  /** Printed after every error. */
  usage: string;
  /** The option named in "Expected an option like --X"; the first option by default. */
  example?: string;
}

export function parseFlags(argv: readonly string[], spec: FlagSpec): Flags {
  const booleans = spec.flags ?? [];
  const values = new Map<string, string>();
  const present = new Set<string>();
  const fail = (message: string): never => {
    throw new Error(`${message}\n${spec.usage}`);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) fail(`Expected an option like --${spec.example ?? spec.options[0]}, got ${JSON.stringify(arg)}`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (booleans.includes(name)) {
      present.add(name);
      continue;
    }
    if (!spec.options.includes(name)) fail(`Expected one of --${[...spec.options, ...booleans].join(', --')}, got --${name}`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) fail(`--${name}: expected a value, got nothing`);
    values.set(name, value);
    present.add(name);
  }
  const required = (name: string): string => values.get(name) ?? fail(`--${name}: expected a value, got none`);
  return {
    get: (name) => values.get(name),
    has: (name) => present.has(name),
    required,
    int(name, min, options = {}) {
      const raw = values.get(name);
      if (raw === undefined && options.fallback !== undefined) return options.fallback;
      const text = raw ?? required(name);
      const v = Number(text);
      const { max } = options;
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(v) || v < min || (max !== undefined && v > max)) {
        throw new Error(`--${name}: expected an integer ${max === undefined ? `>= ${min}` : `in ${min}..${max}`}, got ${JSON.stringify(text)}`);
      }
      return v;
    },
    real(name, min, max, fallback, minIncluded = false) {
      const text = values.get(name);
      if (text === undefined) return fallback;
      const v = Number(text);
      const aboveMin = minIncluded ? v >= min : v > min;
      if (text.trim() === '' || !Number.isFinite(v) || !aboveMin || v >= max) {
        throw new Error(`--${name}: expected a number in ${minIncluded ? '[' : '('}${min}, ${max}), got ${JSON.stringify(text)}`);
      }
      return v;
    },
  };
}

/** An argv as a user would retype it after `prefix` (e.g. "npm run train --"). */
export function commandLineOf(prefix: readonly string[], argv: readonly string[]): string {
  const quote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return [...prefix, ...argv.map(quote)].join(' ');
}
