import path from 'node:path';

/**
 * How this process runs ganql: `compiled` JavaScript built to dist/ (`npm start`), or the TypeScript
 * `sources` through a loader (tsx for `npm run dev` and the commands, vitest's for the tests).
 */
export type Runtime = 'compiled' | 'sources';

// Every ganql module of a process is loaded the same way, so this module's own extension tells.
export const RUNTIME: Runtime = path.extname(__filename) === '.ts' ? 'sources' : 'compiled';
