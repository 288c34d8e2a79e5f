/**
 * Fields of a running ganql's `serverInfo`, as the benches read them over HTTP (no key: the
 * benches start the server with its default, open, settings).
 *   serverInfo(base, 'runtime') -> { runtime: 'compiled' }
 */
export async function serverInfo<T extends object>(base: string, fields: string): Promise<T> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: `{ serverInfo { ${fields} } }` }),
  });
  const body = (await res.json()) as { data?: { serverInfo: T } };
  if (!body.data) throw new Error(`serverInfo: expected data, got ${JSON.stringify(body)}`);
  return body.data.serverInfo;
}
