/**
 * What an API key may do. Each GraphQL field names the one scope it needs (@Authorized in its resolver):
 * - read:   the records: runs, evaluations, training jobs and their progress.
 * - sample: inference on the served models: models, samples, latent walks and arithmetic, nearest neighbours, classify, feature analyses.
 * - train:  start and cancel training jobs; start evaluations.
 * - admin:  everything (a key with admin passes every check).
 */
export const SCOPES = ['read', 'sample', 'train', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** "read, sample" -> ['read', 'sample']; an empty text is no scope. Throws naming the bad entry. */
export function parseScopes(text: string, source: string): Scope[] {
  const parts = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const scopes: Scope[] = [];
  for (const part of parts) {
    if (!isScope(part)) throw new Error(`${source}: expected scopes from ${SCOPES.join(', ')} separated by commas, got ${JSON.stringify(part)}`);
    if (!scopes.includes(part)) scopes.push(part);
  }
  return scopes;
}

/** True when `granted` allows `needed`: the scope itself, or admin. */
export function grants(granted: readonly Scope[], needed: Scope): boolean {
  return granted.includes('admin') || granted.includes(needed);
}
