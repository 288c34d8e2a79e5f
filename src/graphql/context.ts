import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal';
import type { RunService } from '../runs/run.service';
import type { RunRecord } from '../runs/run.store';

/** Per-request state: who asks (for @Authorized), and loaders that batch and de-duplicate lookups within one request. */
export interface GraphqlContext {
  principal: Principal;
  runs: DataLoader<string, RunRecord>;
  sampleIdsByRun: DataLoader<string, string[]>;
}

export function createContext(runs: RunService, principal: Principal): GraphqlContext {
  return {
    principal,
    runs: new DataLoader((ids) => Promise.all(ids.map((id) => runs.get(id).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))))),
    sampleIdsByRun: new DataLoader((ids) => runs.sampleIdsByRun(ids)),
  };
}
