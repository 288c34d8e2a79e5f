import path from 'node:path';
import { Router } from 'express';

// Assets served from node_modules so the explorer works with no internet access.
const ASSETS: Record<string, { file: string; type: string }> = {
  'react.js': { file: 'react/umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.js': { file: 'react-dom/umd/react-dom.production.min.js', type: 'text/javascript' },
  'graphiql.js': { file: 'graphiql/graphiql.min.js', type: 'text/javascript' },
  'graphiql.css': { file: 'graphiql/graphiql.min.css', type: 'text/css' },
};

const DEFAULT_QUERY = `# Welcome to ganql. Press the run button (or Ctrl-Enter).
query Digits {
  serverInfo { backend database }
  models { id architecture dataset latentSize }
  samples(count: 4, seed: 7) {
    id
    image { width height dataUrl }
  }
}
`;

function page(endpoint: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>ganql explorer</title>
  <link rel="stylesheet" href="/playground/assets/graphiql.css">
  <style>html, body, #explorer { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="explorer">Loading the ganql explorer...</div>
  <script src="/playground/assets/react.js"></script>
  <script src="/playground/assets/react-dom.js"></script>
  <script src="/playground/assets/graphiql.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({ url: ${JSON.stringify(endpoint)} });
    ReactDOM.createRoot(document.getElementById('explorer')).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery: ${JSON.stringify(DEFAULT_QUERY)}, defaultEditorToolsVisibility: true }),
    );
  </script>
</body>
</html>`;
}

/** GraphiQL at /playground (and / redirects there), talking to `endpoint`. */
export function explorerRouter(endpoint: string): Router {
  const router = Router();
  const modules = path.dirname(path.dirname(require.resolve('react/package.json')));
  const html = page(endpoint);
  router.get('/', (_req, res) => res.redirect(302, '/playground'));
  router.get('/playground', (_req, res) => res.type('html').send(html));
  router.get('/favicon.ico', (_req, res) => res.status(204).end());
  router.get('/playground/assets/:name', (req, res) => {
    const asset = ASSETS[req.params.name];
    if (!asset) {
      res.status(404).type('text').send('not found');
      return;
    }
    res.type(asset.type).set('Cache-Control', 'public, max-age=86400').sendFile(path.join(modules, asset.file));
  });
  return router;
}
