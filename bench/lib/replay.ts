/**
 * Sends hostile requests to a ganql over HTTP and judges each reply: an allowed HTTP status, a JSON
 * body, and either data without errors or every error with a known string code, never an internal
 * error, a stack trace, a file path or a word about Prisma.
 *
 * A corpus line is a JSON object, either a FuzzCase (./hostile-corpus.ts: method, path, headers,
 * body or bodyBase64, auth) or, when it has none of those keys, a GraphQL request body itself
 * ({"query": ..., "variables": ...}) to POST as JSON to /graphql.
 */
import http from 'node:http';
import { ErrorCode } from '../../src/errors/error-code';
import { REQUEST_ERROR_CODES } from '../../src/server/format-error';
import type { FuzzCase } from './hostile-corpus';

/** Codes a reply may carry: ganql's own (but INTERNAL_SERVER_ERROR) and those Apollo gives to bad requests. */
export const KNOWN_CODES: ReadonlySet<string> = new Set([
  ...Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR),
  ...REQUEST_ERROR_CODES,
]);

/** 200 results and GraphQL errors, 400 bad requests, 401/403 auth, 405 GET mutations, 413 bodies, 415 charsets, 429 rate limits, 503 overload. */
export const ALLOWED_STATUSES: ReadonlySet<number> = new Set([200, 400, 401, 403, 405, 413, 415, 429, 503]);

/** What must never reach a client: stack frames, source paths, the ORM's name. */
const LEAKS: readonly [RegExp, string][] = [
  [/\n\s+at .+\(.*\)|\bat [\w.<>]+ \(/, 'a stack trace'],
  [/(\/work\/|\/home\/|\/src\/|\/node_modules\/|\.ts:\d+|\.js:\d+|[A-Z]:\\)/, 'a file path'],
  [/prisma/i, '"prisma"'],
];

export interface Reply {
  status: number;
  contentType: string;
  body: string;
}

export interface Verdict {
  ok: boolean;
  /** Error codes in the reply (empty for a clean result). */
  codes: string[];
  /** Why the reply is not acceptable. */
  problems: string[];
}

/** The request `line` stands for, as a FuzzCase. */
export function toCase(line: unknown, id: number): FuzzCase {
  if (typeof line !== 'object' || line === null || Array.isArray(line)) {
    return { id, name: 'raw', method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: JSON.stringify(line), auth: 'none' };
  }
  const o = line as Record<string, unknown>;
  if (!['method', 'path', 'body', 'bodyBase64'].some((k) => k in o)) {
    return { id, name: 'graphql', method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: JSON.stringify(o), auth: 'none' };
  }
  return {
    id: typeof o.id === 'number' ? o.id : id,
    name: typeof o.name === 'string' ? o.name : 'case',
    method: o.method === 'GET' ? 'GET' : 'POST',
    path: typeof o.path === 'string' ? o.path : '/graphql',
    headers: typeof o.headers === 'object' && o.headers !== null ? (o.headers as Record<string, string>) : { 'content-type': 'application/json' },
    body: typeof o.body === 'string' ? o.body : o.body !== undefined ? JSON.stringify(o.body) : undefined,
    bodyBase64: typeof o.bodyBase64 === 'string' ? o.bodyBase64 : undefined,
    auth: o.auth === 'admin' || o.auth === 'bad' ? o.auth : 'none',
  };
}

/** Sends one case to `base` (e.g. http://127.0.0.1:4000); `adminKey` is what an "admin" case presents. */
export function sendCase(base: string, c: FuzzCase, adminKey: string | undefined, agent?: http.Agent, timeoutMs = 120_000): Promise<Reply> {
  const url = new URL(c.path, base);
  const body = c.bodyBase64 !== undefined ? Buffer.from(c.bodyBase64, 'base64') : c.body !== undefined ? Buffer.from(c.body, 'utf8') : undefined;
  const headers: Record<string, string | number> = { ...(c.headers ?? {}) };
  if (c.auth === 'admin' && adminKey) headers.authorization = `Bearer ${adminKey}`;
  if (c.auth === 'bad') headers.authorization = 'Bearer gq_000000000000_not-a-real-key';
  if (body !== undefined) headers['content-length'] = body.length;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: c.method, headers, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Judges one reply by the rules above. */
export function judge(reply: Reply): Verdict {
  const problems: string[] = [];
  const codes: string[] = [];
  if (!ALLOWED_STATUSES.has(reply.status)) problems.push(`HTTP ${reply.status}`);
  for (const [pattern, what] of LEAKS) if (pattern.test(reply.body)) problems.push(`body contains ${what}: ${reply.body.slice(0, 300)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.body);
  } catch {
    problems.push(`not JSON (${reply.contentType}): ${reply.body.slice(0, 200)}`);
    return { ok: false, codes, problems };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`expected a JSON object, got ${reply.body.slice(0, 200)}`);
    return { ok: false, codes, problems };
  }
  const { data, errors } = parsed as { data?: unknown; errors?: unknown };
  if (errors === undefined) {
    if (data === undefined || data === null) problems.push('neither data nor errors');
    else if (reply.status !== 200) problems.push(`data with HTTP ${reply.status}`);
  } else if (!Array.isArray(errors) || errors.length === 0) {
    problems.push(`errors is not a non-empty list: ${JSON.stringify(errors).slice(0, 200)}`);
  } else {
    for (const e of errors as { message?: unknown; extensions?: { code?: unknown } }[]) {
      const code = e?.extensions?.code;
      if (typeof code !== 'string') {
        problems.push(`an error without a code: ${JSON.stringify(e).slice(0, 200)}`);
        continue;
      }
      codes.push(code);
      if (!KNOWN_CODES.has(code)) problems.push(`code ${code}: ${String(e.message).slice(0, 200)}`);
      if (typeof e.message !== 'string') problems.push(`an error without a message: ${JSON.stringify(e).slice(0, 200)}`);
    }
  }
  return { ok: problems.length === 0, codes, problems };
}

/** Counts by code (or "OK"), and the cases that failed with why. */
export interface ReplaySummary {
  cases: number;
  byCode: Record<string, number>;
  byStatus: Record<string, number>;
  failures: { id: number; name: string; status: number; problems: string[] }[];
  /** Cases whose request itself failed (connection reset, timeout): the server may be down. */
  transportErrors: { id: number; name: string; error: string }[];
}

export function emptySummary(): ReplaySummary {
  return { cases: 0, byCode: {}, byStatus: {}, failures: [], transportErrors: [] };
}

/** Replays `cases` with `concurrency` in flight, folding each verdict into one summary. */
export async function replay(
  base: string,
  cases: Iterable<FuzzCase>,
  options: { adminKey?: string; concurrency?: number; onCase?: (c: FuzzCase, reply: Reply | Error, v?: Verdict) => void } = {},
): Promise<ReplaySummary> {
  const summary = emptySummary();
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency ?? 4 });
  const it = cases[Symbol.iterator]();
  const worker = async () => {
    for (let next = it.next(); !next.done; next = it.next()) {
      const c = next.value;
      summary.cases++;
      let reply: Reply;
      try {
        reply = await sendCase(base, c, options.adminKey, agent);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        summary.transportErrors.push({ id: c.id, name: c.name, error: message });
        options.onCase?.(c, error instanceof Error ? error : new Error(message));
        continue;
      }
      const v = judge(reply);
      summary.byStatus[reply.status] = (summary.byStatus[reply.status] ?? 0) + 1;
      const keys = v.codes.length === 0 ? ['OK'] : [...new Set(v.codes)];
      for (const k of keys) summary.byCode[k] = (summary.byCode[k] ?? 0) + 1;
      if (!v.ok) summary.failures.push({ id: c.id, name: c.name, status: reply.status, problems: v.problems });
      options.onCase?.(c, reply, v);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  } finally {
    agent.destroy();
  }
  return summary;
}

/** Refuses anything but a loopback URL: these scripts must not be pointed at someone else's server. */
export function loopbackUrl(raw: string): URL {
  const url = new URL(raw);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new Error(`URL: expected a loopback host (127.0.0.1, ::1 or localhost), got ${JSON.stringify(url.hostname)}`);
  }
  if (url.protocol !== 'http:') throw new Error(`URL: expected http:, got ${url.protocol}`);
  return url;
}
