import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_WS_MODULE, STUDIO_DIR, studioFile, vendorFiles } from '../../src/server/studio';
import { startTestServer, type TestServer } from '../helpers/server';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.stop();
});

describe('the studio route', () => {
  it('serves index.html for /studio and /studio/, revalidated on every use', async () => {
    const index = readFileSync(path.join(STUDIO_DIR, 'index.html'), 'utf8');
    for (const url of ['/studio', '/studio/']) {
      const res = await server.http.get(url);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.text).toBe(index);
    }
    expect(index).toMatch(/<base href="\/studio\/" ?\/?>/);
    expect(index).toContain('<script type="module" src="app.js"></script>');
  });

  it('serves its modules and stylesheet with their content types, and answers a revalidation with 304', async () => {
    const cases: [string, RegExp, string][] = [
      ['/studio/app.js', /^text\/javascript; charset=utf-8$/, 'app.js'],
      ['/studio/lib/api.js', /^text\/javascript; charset=utf-8$/, 'lib/api.js'],
      ['/studio/pages/gallery.js', /^text\/javascript; charset=utf-8$/, 'pages/gallery.js'],
      ['/studio/styles.css', /^text\/css; charset=utf-8$/, 'styles.css'],
    ];
    for (const [url, type, file] of cases) {
      const res = await server.http.get(url);
      expect(res.status, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(type);
      expect(res.headers['cache-control'], url).toBe('no-cache');
      expect(res.text, url).toBe(readFileSync(path.join(STUDIO_DIR, file), 'utf8'));
      const again = await server.http.get(url).set('if-none-match', res.headers.etag);
      expect(again.status, url).toBe(304);
    }
  });

  it('404s unknown files, folders, hidden files and other types, with no body from elsewhere', async () => {
    for (const url of [
      '/studio/nope.js',
      '/studio/lib',
      '/studio/lib/',
      '/studio/pages/missing.js',
      '/studio/.hidden.js',
      '/studio/index.html.bak',
      '/studio/README.md',
    ]) {
      const res = await server.http.get(url);
      expect(res.status, url).toBe(404);
      expect(res.text, url).toBe('not found');
    }
  });

  it('never leaves its folder, however the path is spelt', async () => {
    const attempts = [
      '/studio/..%2Fpackage.json',
      '/studio/..%2f..%2fpackage.json',
      '/studio/%2e%2e/%2e%2e/package.json',
      '/studio/lib/..%2F..%2F..%2Fsrc%2Fmain.ts',
      '/studio/..%5C..%5Cpackage.json',
      '/studio/%2e%2e%2f%2e%2e%2fsrc%2fserver%2fstudio.ts',
      '/studio/app.js%00.css',
      '/studio/%E0%A4%A',
    ];
    for (const url of attempts) {
      const res = await server.http.get(url);
      expect([400, 404], url).toContain(res.status);
      expect(res.text, url).not.toContain('"name": "ganql"');
      expect(res.text, url).not.toContain('import');
    }
    // The plain form never even reaches the router: HTTP clients and Express normalise it to /package.json, which is not served.
    expect((await server.http.get('/studio/../package.json')).status).toBe(404);
  });

  it("serves graphql-ws's browser ES module and the chunks it imports from node_modules, by exact name only", async () => {
    const dist = path.dirname(require.resolve('graphql-ws'));
    const entry = await server.http.get(`/studio/vendor/${GRAPHQL_WS_MODULE}`);
    expect(entry.status).toBe(200);
    expect(entry.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(entry.headers['x-content-type-options']).toBe('nosniff');
    expect(entry.text).toBe(readFileSync(path.join(dist, 'client.js'), 'utf8'));
    expect(entry.text).toContain('createClient');
    // Each relative import of the module is served beside it, so the browser can load it; no bare import is left to resolve.
    const imports = [...new Set([...entry.text.matchAll(/^(?:import|export) [^;]*?from\s*'([^']+)'/gm)].map((m) => m[1]))];
    expect(imports.length).toBeGreaterThan(0);
    for (const specifier of imports) {
      expect(specifier, specifier).toMatch(/^\.\/[\w.-]+\.js$/);
      const chunk = await server.http.get(`/studio/vendor/${specifier.slice(2)}`);
      expect(chunk.status, specifier).toBe(200);
      expect(chunk.text, specifier).toBe(readFileSync(path.join(dist, specifier.slice(2)), 'utf8'));
      expect(chunk.text, specifier).not.toMatch(/^(?:import|export) [^;]*?from\s*'[^.]/m);
    }
    expect([...vendorFiles().keys()].sort()).toEqual([GRAPHQL_WS_MODULE, ...imports.map((s) => s.slice(2))].sort());
    for (const url of [
      '/studio/vendor/',
      '/studio/vendor/index.js',
      '/studio/vendor/client.js',
      '/studio/vendor/package.json',
      '/studio/vendor/..%2F..%2Fpackage.json',
      '/studio/vendor/graphql-ws.mjs/x',
      '/studio/vendor/graphql-ws.d.mts',
    ]) {
      const res = await server.http.get(url);
      expect(res.status, url).toBe(404);
      expect(res.text, url).toBe('not found');
    }
  });

  it('studioFile resolves only served files inside the root', () => {
    expect(studioFile(STUDIO_DIR, 'app.js')).toBe(path.join(STUDIO_DIR, 'app.js'));
    expect(studioFile(STUDIO_DIR, 'lib%2Fui.js')).toBe(path.join(STUDIO_DIR, 'lib', 'ui.js'));
    expect(studioFile(STUDIO_DIR, '../studio/app.js')).toBeUndefined();
    expect(studioFile(STUDIO_DIR, '%2e%2e%2fstudio%2fapp.js')).toBeUndefined();
    expect(studioFile(STUDIO_DIR, 'lib')).toBeUndefined();
    expect(studioFile(STUDIO_DIR, '%')).toBeUndefined();
    expect(studioFile(STUDIO_DIR, 'a\\..\\app.js')).toBeUndefined();
  });

  it('leaves the GraphQL endpoint and the explorer as they were', async () => {
    const body = await server.gql<{ serverInfo: { backend: string } }>('{ serverInfo { backend } }');
    expect(body.data?.serverInfo.backend).toBe('wasm');
    expect((await server.http.get('/playground')).status).toBe(200);
  });
});
