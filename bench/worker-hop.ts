/**
 * The floor of a worker-thread design on ONNX Runtime: what handing one batch to another thread and
 * back costs, without any of ganql's code in the way. The shipped generator (exported as ganql exports
 * it) runs, at one batch size, three ways from one run:
 *   raw       onnxruntime-node's InferenceSession.run on this thread (what bench/forward.ts calls raw);
 *   message   a minimal worker thread holding the same session, handed latents by postMessage (input
 *             transferred) and answering by postMessage, one call at a time and with two in flight;
 *   atomics   the same worker fed through a SharedArrayBuffer, each side woken by Atomics.notify and
 *             waiting with Atomics.waitAsync, two in flight (no structured clone, no MessagePort events).
 *   ring      a worker that blocks in Atomics.wait on a ring of 8 shared slots and runs each batch
 *             synchronously on onnxruntime-node's native session (its internal binding, skipping the
 *             public API's setImmediate), 8 in flight; this thread collects every finished slot on one
 *             wake-up. A sketch of the design a b=1 target of 0.9x asks for, not what ganql runs.
 * Then what waking a thread costs the one that wakes it: a worker's postMessage to this thread, back
 * to back (this thread is busy taking them) and one per raw call's time (this thread sleeps in
 * between, as it does when a worker answers one batch at a time).
 *
 *   npx tsx bench/worker-hop.ts [--model models/dcgan-mnist] [--batch 1] [--seconds 2] [--rounds 3]
 *
 * Prints microseconds per call and each as a ratio of raw's throughput, best of --rounds rounds.
 * ganql's executor (bench/forward.ts) cannot do better than the `message` row with the same calls in flight.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { initBackend } from '../src/backend/backend';
import { generatorOf, readManifest } from '../src/models/manifest';
import { loadServedGenerator } from '../src/models/served-generator';
import { exportOnnx } from '../src/onnx/export-onnx';
import { loadOnnxRuntime } from '../src/onnx/onnx-runtime';
import { onnxSessionOptions } from '../src/onnx/onnx-session';
import { numberArg, stringArg } from './lib/cli-args';

/** The worker's code: one session; requests by message or through the shared buffer. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
const { file, options, latentSize, imageSize, batch, shared } = workerData;
(async () => {
  const session = await ort.InferenceSession.create(file, options);
  const run = async (input) => (await session.run({ latent: new ort.Tensor('float32', input, [batch, latentSize]) })).image.data;
  parentPort.on('message', async (m) => {
    const output = (await run(m.input)).slice();
    parentPort.postMessage({ id: m.id, output }, [output.buffer]);
  });
  parentPort.postMessage('ready');
  // The shared-buffer channel: two slots, state 0 empty, 1 request, 2 result.
  const state = new Int32Array(shared, 0, 2);
  const inputs = [0, 1].map((s) => new Float32Array(shared, 8 + s * batch * latentSize * 4, batch * latentSize));
  const outputs = [0, 1].map((s) => new Float32Array(shared, 8 + 2 * batch * latentSize * 4 + s * batch * imageSize * 4, batch * imageSize));
  for (let slot = 0; ; slot ^= 1) {
    while (Atomics.load(state, slot) !== 1) {
      const wait = Atomics.waitAsync(state, slot, Atomics.load(state, slot));
      if (wait.async) await wait.value;
    }
    outputs[slot].set(await run(inputs[slot].slice()));
    Atomics.store(state, slot, 2);
    Atomics.notify(state, slot);
  }
})();
`;

/** Posts `count` numbers to the parent, each after busy-waiting `gapUs`, and answers the mean microseconds one postMessage took. */
const WAKE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { count, gapUs } = workerData;
let spent = 0;
for (let i = 0; i < count; i++) {
  const start = performance.now();
  while (performance.now() - start < gapUs / 1000);
  const before = performance.now();
  parentPort.postMessage(i);
  spent += performance.now() - before;
}
parentPort.postMessage({ usPerPost: (spent * 1000) / count });
`;

/** Slots of the ring row. */
const RING = 8;

/**
 * The ring row's worker: ctl[0..RING) slot states (0 free, 1 request, 2 result), ctl[RING] results
 * so far, ctl[RING + 1] set while this thread waits for one, ctl[RING + 2] set while the worker waits.
 */
const RING_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
const { binding, initOrt } = require(workerData.binding);
const { file, options, latentSize, imageSize, batch, shared, ring, offset } = workerData;
(async () => {
  initOrt();
  const session = new binding.InferenceSession();
  await session.loadModel(file, options);
  const ctl = new Int32Array(shared, 0, ring + 3);
  const inputs = Array.from({ length: ring }, (_, k) => new Float32Array(shared, offset + k * batch * latentSize * 4, batch * latentSize));
  const outputs = Array.from({ length: ring }, (_, k) => new Float32Array(shared, offset + ring * batch * latentSize * 4 + k * batch * imageSize * 4, batch * imageSize));
  parentPort.postMessage('ready');
  for (let slot = 0; ; slot = (slot + 1) % ring) {
    while (Atomics.load(ctl, slot) !== 1) {
      Atomics.store(ctl, ring + 2, 1);
      if (Atomics.load(ctl, slot) !== 1) Atomics.wait(ctl, slot, Atomics.load(ctl, slot), 50);
      Atomics.store(ctl, ring + 2, 0);
    }
    // A copy: the native binding does not take an array on shared memory.
    const result = session.run({ latent: new ort.Tensor('float32', inputs[slot].slice(), [batch, latentSize]) }, { image: null }, {});
    outputs[slot].set(result.image.data);
    Atomics.store(ctl, slot, 2);
    Atomics.add(ctl, ring, 1);
    if (Atomics.load(ctl, ring + 1) === 1) Atomics.notify(ctl, ring);
  }
})();
`;

/** Atomics.waitAsync (V8, Node >= 16), which this project's TypeScript lib (ES2022) does not declare. */
type WaitAsync = (array: Int32Array, index: number, value: number) => { async: boolean; value: Promise<unknown> | string };
const waitAsync: WaitAsync = (array, index, value) => (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(array, index, value);

async function main(): Promise<void> {
  const dir = path.resolve(stringArg('model', 'models/dcgan-mnist'));
  const batch = numberArg('batch', 1, 1, 4096);
  const seconds = numberArg('seconds', 2, 0.1, 600);
  const rounds = numberArg('rounds', 3, 1, 20);
  const loaded = loadOnnxRuntime();
  if (!loaded.ok) throw new Error(`expected onnxruntime-node to load, got: ${loaded.reason}`);
  const ort = loaded.runtime;
  await initBackend({ order: ['wasm'] });
  const manifest = readManifest(dir);
  const entry = generatorOf(manifest);
  if (entry === undefined) throw new Error(`${dir}: expected a model with a generator, got one without`);
  const generator = await loadServedGenerator(path.join(dir, entry.path));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ganql-hop-'));
  const file = path.join(tmp, 'generator.onnx');
  writeFileSync(file, exportOnnx(generator, { inputName: 'latent', outputName: 'image' }));
  generator.dispose();
  const latentSize = entry.latentSize;
  const imageSize = manifest.imageShape.reduce((a, b) => a * b, 1);
  const options = onnxSessionOptions(1);
  const shared = new SharedArrayBuffer(8 + 2 * batch * (latentSize + imageSize) * 4);
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { ort: require.resolve('onnxruntime-node'), file, options, latentSize, imageSize, batch, shared },
  });
  // The ring row's buffer: the control words (padded to 8 bytes), then RING inputs, then RING outputs.
  const ringOffset = Math.ceil(((RING + 3) * 4) / 8) * 8;
  const ringShared = new SharedArrayBuffer(ringOffset + RING * batch * (latentSize + imageSize) * 4);
  const ringWorker = new Worker(RING_WORKER, {
    eval: true,
    workerData: {
      ort: require.resolve('onnxruntime-node'),
      binding: require.resolve('onnxruntime-node/dist/binding'),
      file,
      options,
      latentSize,
      imageSize,
      batch,
      shared: ringShared,
      ring: RING,
      offset: ringOffset,
    },
  });
  // Atomics.waitAsync holds no reference on the event loop: this keeps the process alive meanwhile.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    for (const w of [worker, ringWorker]) {
      await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
    }
    const latents = Float32Array.from({ length: batch * latentSize }, (_, i) => Math.sin(i * 12.9898) * 1.5);
    const session = await ort.InferenceSession.create(file, options);
    const feed = { latent: new ort.Tensor('float32', latents, [batch, latentSize]) };

    const pending = new Map<number, () => void>();
    let nextId = 0;
    worker.on('message', (m: { id: number }) => {
      pending.get(m.id)?.();
      pending.delete(m.id);
    });
    const byMessage = (): Promise<void> =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        const input = latents.slice();
        worker.postMessage({ id, input }, [input.buffer]);
      });
    const state = new Int32Array(shared, 0, 2);
    const inputs = [0, 1].map((s) => new Float32Array(shared, 8 + s * batch * latentSize * 4, batch * latentSize));
    const outputs = [0, 1].map((s) => new Float32Array(shared, 8 + 2 * batch * latentSize * 4 + s * batch * imageSize * 4, batch * imageSize));
    const byAtomics = async (slot: number): Promise<void> => {
      inputs[slot].set(latents);
      Atomics.store(state, slot, 1);
      Atomics.notify(state, slot);
      while (Atomics.load(state, slot) !== 2) {
        const wait = waitAsync(state, slot, 1);
        if (wait.async) await wait.value;
      }
      outputs[slot].slice();
      Atomics.store(state, slot, 0);
    };

    const ctl = new Int32Array(ringShared, 0, RING + 3);
    const ringInputs = Array.from({ length: RING }, (_, k) => new Float32Array(ringShared, ringOffset + k * batch * latentSize * 4, batch * latentSize));
    const ringOutputs = Array.from(
      { length: RING },
      (_, k) => new Float32Array(ringShared, ringOffset + RING * batch * latentSize * 4 + k * batch * imageSize * 4, batch * imageSize),
    );
    const waiting = new Array<(() => void) | undefined>(RING);
    let next = 0;
    let collect = 0;
    let seen = 0;
    const byRing = (): Promise<void> =>
      new Promise((resolve) => {
        const slot = next;
        next = (next + 1) % RING;
        ringInputs[slot].set(latents);
        waiting[slot] = resolve;
        Atomics.store(ctl, slot, 1);
        if (Atomics.load(ctl, RING + 2) === 1) Atomics.notify(ctl, slot);
      });
    // One collector: every result the worker finished since the last wake-up is taken on this one.
    let collecting = true;
    const collector = (async () => {
      while (collecting) {
        Atomics.store(ctl, RING + 1, 1);
        const wait = waitAsync(ctl, RING, seen);
        if (wait.async) await Promise.race([wait.value, new Promise((r) => setTimeout(r, 100))]);
        Atomics.store(ctl, RING + 1, 0);
        seen = Atomics.load(ctl, RING);
        while (Atomics.load(ctl, collect) === 2) {
          ringOutputs[collect].slice();
          Atomics.store(ctl, collect, 0);
          const resolve = waiting[collect];
          waiting[collect] = undefined;
          collect = (collect + 1) % RING;
          resolve?.();
        }
      }
    })();

    const rows: [string, (lane: number) => Promise<unknown>, number][] = [
      ['raw: onnxruntime-node on this thread', () => session.run(feed), 1],
      ['message: minimal worker, one at a time', byMessage, 1],
      ['message: minimal worker, two in flight', byMessage, 2],
      ['atomics: minimal worker, two in flight', byAtomics, 2],
      [`ring: native run, ${RING} in flight`, byRing, RING],
    ];
    const best = rows.map(() => Infinity);
    for (let round = 0; round < rounds; round++) {
      for (const [i, [, call, lanes]] of rows.entries()) best[i] = Math.min(best[i], await microsPerCall(call, lanes, seconds));
    }
    console.log(
      `onnxruntime-node ${loaded.version}, 1 intra-op thread, batch ${batch}; ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? 'unknown cpu'}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(`best of ${rounds} rounds of ${seconds} s`);
    for (const [i, [name]] of rows.entries()) {
      console.log(`${name.padEnd(42)} ${best[i].toFixed(1).padStart(8)} us/call  ${(best[0] / best[i]).toFixed(2)}x raw`);
    }
    collecting = false;
    await collector;
    await session.release();
    const [busy, asleep] = [await postCost(0, 20_000), await postCost(best[0], Math.ceil(2e6 / best[0]))];
    console.log(
      `wake: a worker's postMessage to this thread takes ${busy.toFixed(1)} us back to back, ${asleep.toFixed(1)} us one per ${best[0].toFixed(0)} us (this thread asleep in between)`,
    );
  } finally {
    clearInterval(keepAlive);
    await worker.terminate();
    await ringWorker.terminate();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Mean microseconds a worker's postMessage to this thread takes, one every `gapUs` (0: back to back). */
async function postCost(gapUs: number, count: number): Promise<number> {
  const worker = new Worker(WAKE_WORKER, { eval: true, workerData: { count, gapUs } });
  try {
    return await new Promise<number>((resolve, reject) => {
      worker.on('message', (m: number | { usPerPost: number }) => {
        if (typeof m === 'object') resolve(m.usPerPost);
      });
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}

/** Mean microseconds per call with `lanes` calls in flight (lane i is passed i) over about `seconds`, after a warm-up. */
async function microsPerCall(call: (lane: number) => Promise<unknown>, lanes: number, seconds: number): Promise<number> {
  for (let i = 0; i < 100; i++) await Promise.all(Array.from({ length: lanes }, (_, lane) => call(lane)));
  let calls = 0;
  const start = performance.now();
  const lane = async (index: number): Promise<void> => {
    while (performance.now() - start < seconds * 1000) {
      await call(index);
      calls++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, index) => lane(index)));
  return ((performance.now() - start) * 1000) / calls;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
