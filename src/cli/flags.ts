import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Command-line options of ganql's CLIs: `--name value`, `--name=value` and bare boolean `--flag`s (node:util parseArgs). */
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
  /** Values of options the user may leave out. */
  defaults?: Readonly<Record<string, string>>;
  /** Printed after every error. */
  usage: string;
  /** The option named in "Expected an option like --X"; the first option by default. */
  example?: string;
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** A negative number after an option is its value: parseArgs would call `--lr -1` ambiguous, so it becomes `--lr=-1`. */
function joinNegativeValues(argv: readonly string[], valued: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (valued.includes(argv[i].slice(2)) && argv[i].startsWith('--') && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

/**
 * What parseArgs refused, said as "Expected X, got Y": its tokens (read again without strict) point
 * at the first argument it could not take.
 */
function explainRefusal(args: string[], options: OptionsConfig, spec: FlagSpec, error: unknown): string {
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional') return `Expected an option like --${spec.example ?? spec.options[0]}, got ${JSON.stringify(token.value)}`;
    if (token.kind !== 'option') continue;
    const type = Object.hasOwn(options, token.name) ? options[token.name].type : undefined;
    if (type === undefined) return `Expected one of --${[...spec.options, ...(spec.flags ?? [])].join(', --')}, got ${token.rawName}`;
    if (type === 'string' && token.value === undefined) return `--${token.name}: expected a value, got nothing`;
    if (type === 'string' && !token.inlineValue && token.value?.startsWith('-')) {
      return `--${token.name}: expected a value, got the option ${token.value} (write --${token.name}=VALUE for a value starting with "-")`;
    }
    if (type === 'boolean' && token.value !== undefined) return `--${token.name}: expected no value, got ${JSON.stringify(token.value)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Parses argv with node:util's parseArgs (strict: no unknown options, no positionals), then reads values with range checks. */
export function parseFlags(argv: readonly string[], spec: FlagSpec): Flags {
  const options: OptionsConfig = {};
  for (const name of spec.options) {
    const fallback = spec.defaults?.[name];
    options[name] = fallback === undefined ? { type: 'string' } : { type: 'string', default: fallback };
  }
  for (const name of spec.flags ?? []) options[name] = { type: 'boolean' };
  const fail = (message: string): never => {
    throw new Error(`${message}\n${spec.usage}`);
  };
  const args = joinNegativeValues(argv, spec.options);
  let parsed: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return fail(explainRefusal(args, options, spec, error));
  }
  const value = (name: string): string | undefined => {
    const v = parsed[name];
    return typeof v === 'string' ? v : undefined;
  };
  const required = (name: string): string => value(name) ?? fail(`--${name}: expected a value, got none`);
  return {
    get: value,
    has: (name) => parsed[name] !== undefined && parsed[name] !== false,
    required,
    int(name, min, options = {}) {
      const raw = value(name);
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
      const text = value(name);
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
