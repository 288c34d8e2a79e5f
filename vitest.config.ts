import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Vite prefers graphql's ESM build, while Node (and so type-graphql and Apollo) load its CJS build:
    // two copies of graphql break instanceof checks. Point ours at the one Node loads.
    alias: [{ find: /^graphql$/, replacement: path.resolve(__dirname, 'node_modules/graphql/index.js') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // tfjs backends are process-global: one file per process keeps them apart.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
