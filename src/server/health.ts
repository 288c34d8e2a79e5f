import type { Request, Response } from 'express';

export interface HealthProbe {
  /** False while starting or draining. */
  accepting(): boolean;
  databaseOk(): Promise<boolean>;
  modelCount(): number;
  backend: string;
}

/** GET /healthz: 200 only when the database answers and at least one model is loaded. */
export function healthHandler(probe: HealthProbe) {
  return async (_req: Request, res: Response): Promise<void> => {
    const [database, models] = [await probe.databaseOk(), probe.modelCount()];
    const accepting = probe.accepting();
    const ok = accepting && database && models > 0;
    res.status(ok ? 200 : 503).json({
      status: ok ? 'ok' : 'unavailable',
      database: database ? 'ok' : 'unreachable',
      models,
      backend: probe.backend,
      ...(accepting ? {} : { reason: 'starting or shutting down' }),
    });
  };
}
