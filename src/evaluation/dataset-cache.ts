import { REFERENCE_DATASETS, type DatasetSplit, type ReferenceDataset, type SplitName } from './reference-datasets';

/**
 * Dataset splits loaded on first use and kept: nearest-neighbour queries scan the training split
 * on every call (mnist's 9,000 digits are 28 MB as float32 and take ~0.4 s to load).
 */
export class DatasetCache {
  private readonly loaded = new Map<string, Promise<DatasetSplit>>();

  constructor(private readonly datasets: ReadonlyMap<string, ReferenceDataset> = REFERENCE_DATASETS) {}

  /** The dataset ganql can load under this name, if any. */
  dataset(name: string): ReferenceDataset | undefined {
    return this.datasets.get(name);
  }

  /** A split, loaded once (a failed load is retried next time). */
  get(name: string, split: SplitName): Promise<DatasetSplit> {
    const dataset = this.datasets.get(name);
    if (!dataset) return Promise.reject(new Error(`DatasetCache: expected one of ${[...this.datasets.keys()].join(', ')}, got ${JSON.stringify(name)}`));
    const key = `${name}/${split}`;
    let loading = this.loaded.get(key);
    if (!loading) {
      loading = dataset.load(split);
      this.loaded.set(key, loading);
      loading.catch(() => this.loaded.delete(key));
    }
    return loading;
  }
}
