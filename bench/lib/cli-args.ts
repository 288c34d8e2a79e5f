/** `--name value` from argv, or the fallback. */
export function stringArg(name: string, fallback: string, argv: readonly string[] = process.argv): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
}

/** `--name value` as a number in [min, max]; a bad value ends the script with "expected X, got Y". */
export function numberArg(name: string, fallback: number, min: number, max: number, argv: readonly string[] = process.argv): number {
  const raw = stringArg(name, String(fallback), argv);
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`--${name}: expected a number in ${min}..${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
