// Entry of every ganql worker thread run from TypeScript sources (inference, training, metrics,
// linear classifiers). A worker starts without the parent's TypeScript loader (vitest's lives in its
// own module runner; tsx's flags are not passed on), so register tsx's CommonJS hook, then load the
// .ts entry that workerLaunch (worker-script.ts) put in workerData.
const { workerData } = require('node:worker_threads');

require('tsx/cjs/api').register();
require(workerData.entry);
