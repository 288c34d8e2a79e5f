import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Router, type Response } from 'express';

/** The studio's files: plain ES modules and CSS, served as they are (no build step). */
export const STUDIO_DIR = path.resolve(__dirname, '../../web/studio');

// Only these kinds of file are served; anything else under the folder is a 404.
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// Unhashed file names: the browser may keep them but asks again (ETag) before using them, so a new version shows at once.
const CACHE_CONTROL = 'no-cache';

/** The URL name under <mount>/vendor/ of graphql-ws's browser client, which the studio's modules import. */
export const GRAPHQL_WS_MODULE = 'graphql-ws.mjs';

/**
 * Files of node_modules the studio loads, by their name under <mount>/vendor/: graphql-ws's browser ES
 * module build (dist/client.js) and the chunks it imports by relative path, found by reading its imports
 * so a new graphql-ws version with differently hashed chunk names needs no change here.
 */
export function vendorFiles(): ReadonlyMap<string, string> {
  // require.resolve gives the CommonJS entry (dist/index.cjs); the ES module build sits beside it.
  const dist = path.dirname(require.resolve('graphql-ws'));
  const files = new Map<string, string>([[GRAPHQL_WS_MODULE, path.join(dist, 'client.js')]]);
  const pending = [...files.values()];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    for (const [, chunk] of readFileSync(file, 'utf8').matchAll(/\bfrom\s*['"]\.\/([\w.-]+\.js)['"]/g)) {
      if (files.has(chunk)) continue;
      files.set(chunk, path.join(dist, chunk));
      pending.push(path.join(dist, chunk));
    }
  }
  return files;
}

function notFound(res: Response): void {
  res.status(404).type('text').set('Cache-Control', 'no-store').send('not found');
}

/**
 * The file under `root` that `relative` (the URL path after /studio/, still percent-encoded) names, or
 * undefined when it is outside root, hidden, of a type not served, or missing.
 */
export function studioFile(root: string, relative: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return undefined;
  }
  // Backslashes and NUL are never part of a studio file name; refusing them keeps Windows-style traversal out too.
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const parts = decoded.split('/').filter((part) => part !== '');
  if (parts.some((part) => part === '..' || part.startsWith('.'))) return undefined;
  const file = path.resolve(root, ...parts);
  if (!file.startsWith(root + path.sep)) return undefined;
  if (CONTENT_TYPES[path.extname(file)] === undefined) return undefined;
  if (!existsSync(file) || !statSync(file).isFile()) return undefined;
  return file;
}

/**
 * The web studio at `mount` (e.g. "/studio"): index.html for the folder itself (with or without the
 * trailing slash; the page's <base> makes its relative URLs work either way), the files of `root` by
 * name with their content type, the vendorFiles under `mount`/vendor/, 404 for anything else.
 */
export function studioRouter(mount = '/studio', root = STUDIO_DIR): Router {
  const router = Router();
  const index = path.join(root, 'index.html');
  const vendor = vendorFiles();
  const send = (res: Response, file: string, type = CONTENT_TYPES[path.extname(file)]): void => {
    res.type(type).set('Cache-Control', CACHE_CONTROL).set('X-Content-Type-Options', 'nosniff').sendFile(file);
  };
  router.get(mount, (_req, res) => send(res, index));
  // Exact names only: nothing else of node_modules is reachable.
  router.get(`${mount}/vendor/:name`, (req, res) => {
    const file = vendor.get(req.params.name);
    if (file === undefined) return notFound(res);
    send(res, file, CONTENT_TYPES['.js']);
  });
  router.get(`${mount}/{*rest}`, (req, res) => {
    // The raw path, so an encoded "%2F.." is judged after decoding rather than routed around.
    const raw = req.path.slice(mount.length + 1);
    if (raw === '') return send(res, index);
    const file = studioFile(root, raw);
    if (file === undefined) return notFound(res);
    send(res, file);
  });
  return router;
}
