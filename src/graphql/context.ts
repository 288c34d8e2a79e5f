import DataLoader from 'dataloader';
import type { RunRecord, RunService } from '../runs/run.service';

/** Per-request state: loaders batch and de-duplicate lookups within one request. */
export interface GraphqlContext {
  runs: DataLoader<string, RunRecord>;
  sampleIdsByRun: DataLoader<string, string[]>;
}

export function createContext(runs: RunService): GraphqlContext {
  return {
    runs: new DataLoader((ids) => Promise.all(ids.map((id) => runs.get(id).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))))),
    sampleIdsByRun: new DataLoader((ids) => runs.sampleIdsByRun(ids)),
  };
}
