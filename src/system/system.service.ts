import type { BackendInfo } from '../backend/backend';
import type { Config } from '../config/config';
import type { DatabaseProvider } from '../db/database';
import type { InferencePool, PoolStats } from '../inference/pool';
import { RUNTIME, type Runtime } from '../workers/runtime';

export interface SystemInfo {
  version: string;
  runtime: Runtime;
  backend: string;
  customKernels: string[];
  database: DatabaseProvider;
  maxSamplesPerRequest: number;
  pool: Config['pool'] & PoolStats & { executor: string };
}

/** Facts about this process for the API and /healthz. */
export class SystemService {
  constructor(
    private readonly config: Config,
    private readonly backend: BackendInfo,
    /** What computes, as servingEngine names it. */
    private readonly engine: string,
    private readonly database: DatabaseProvider,
    private readonly pool: InferencePool,
    private readonly version: string,
  ) {}

  info(): SystemInfo {
    return {
      version: this.version,
      runtime: RUNTIME,
      backend: this.engine,
      customKernels: this.backend.customKernels,
      database: this.database,
      maxSamplesPerRequest: this.config.maxSamplesPerRequest,
      pool: { ...this.config.pool, ...this.pool.stats(), executor: this.pool.description },
    };
  }
}
