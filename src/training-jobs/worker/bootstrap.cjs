// Entry of a training worker thread run from TypeScript sources. A worker starts without the
// parent's TypeScript loader (vitest's lives in its own module runner; tsx's flags are not passed
// on), so register tsx's CommonJS hook, then load the .ts entry training-worker.ts names.
const { workerData } = require('node:worker_threads');

require('tsx/cjs/api').register();
require(workerData.entry);
