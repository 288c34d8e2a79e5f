import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type DataId = tf.TensorInfo['dataId'];

/**
 * Tensors a kernel derives from a filter (flipped sub-kernels, a transposed weight matrix), kept
 * while the filter lives. XNNPACK caches its packed operator per weight tensor, so passing the same
 * derived tensor on every call skips both deriving and re-packing: at batch 1 that was half the
 * transposed conv's time. tfjs never changes the data behind a live data id (every write makes a
 * new one), so an entry stays valid until its filter's data is freed; it is freed at the next call.
 */
export class DerivedFilters {
  private readonly byBackend = new WeakMap<BackendWasm, Map<DataId, Map<string, tf.TensorInfo[]>>>();

  /** The tensors derived from `filter` under `key`, made by `derive` on first use. */
  get(backend: BackendWasm, filter: tf.TensorInfo, key: string, derive: () => tf.TensorInfo[]): tf.TensorInfo[] {
    let entries = this.byBackend.get(backend);
    if (entries === undefined) {
      entries = new Map();
      this.byBackend.set(backend, entries);
    }
    this.sweep(backend, entries);
    let derived = entries.get(filter.dataId);
    if (derived === undefined) {
      derived = new Map();
      entries.set(filter.dataId, derived);
    }
    let tensors = derived.get(key);
    if (tensors === undefined) {
      tensors = derive();
      derived.set(key, tensors);
    }
    return tensors;
  }

  /** Frees what was derived from filters whose data is gone (training makes a new filter each step). */
  private sweep(backend: BackendWasm, entries: Map<DataId, Map<string, tf.TensorInfo[]>>): void {
    for (const [dataId, derived] of entries) {
      if (backend.dataIdMap.has(dataId)) continue;
      for (const tensors of derived.values()) for (const t of tensors) backend.disposeData(t.dataId);
      entries.delete(dataId);
    }
  }
}
