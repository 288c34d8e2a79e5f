import type { NextFunction, Request, Response } from 'express';
import { ErrorCode } from '../errors/error-code';

export interface AdmissionOptions {
  /** Requests handled at once; more wait, unread, in arrival order. */
  maxConcurrent: number;
  /** Requests allowed to wait; beyond it a request is refused at once with OVERLOADED (HTTP 503). */
  maxWaiting: number;
  onReject?: () => void;
}

export interface Admission {
  /** An arrow property: app.use takes it detached from the object. */
  middleware: (req: Request, res: Response, next: NextFunction) => void;
  /** Requests in progress and waiting now. */
  stats(): { active: number; waiting: number };
}

/**
 * Admission control in front of /graphql and /images. Bounding the requests in progress bounds the work each
 * turn of the event loop does, so cheap routes (/healthz, /metrics) stay fast while the API is
 * saturated; waiting requests cost nothing until admitted (their bodies are not read yet).
 */
export function createAdmission(options: AdmissionOptions): Admission {
  for (const [key, value] of Object.entries({ maxConcurrent: options.maxConcurrent, maxWaiting: options.maxWaiting })) {
    if (!Number.isInteger(value) || value < (key === 'maxConcurrent' ? 1 : 0)) {
      throw new Error(`admission: expected ${key} to be an integer >= ${key === 'maxConcurrent' ? 1 : 0}, got ${value}`);
    }
  }
  let active = 0;
  const waiting: (() => void)[] = [];

  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };

  return {
    stats: () => ({ active, waiting: waiting.length }),
    middleware: (req, res, next) => {
      const admit = (): void => {
        let released = false;
        const done = (): void => {
          if (released) return;
          released = true;
          release();
        };
        res.once('finish', done);
        res.once('close', done);
        next();
      };
      if (active < options.maxConcurrent) {
        active += 1;
        admit();
        return;
      }
      if (waiting.length >= options.maxWaiting) {
        options.onReject?.();
        res
          .status(503)
          .set('Retry-After', '1')
          .json({
            errors: [
              {
                message: `server busy (${active} requests in progress, ${waiting.length} waiting, limit ${options.maxWaiting}); retry later`,
                extensions: { code: ErrorCode.OVERLOADED },
              },
            ],
          });
        return;
      }
      const entry = (): void => admit();
      waiting.push(entry);
      // A client that gives up while waiting leaves the queue.
      req.once('close', () => {
        const at = waiting.indexOf(entry);
        if (at >= 0 && !res.headersSent) waiting.splice(at, 1);
      });
    },
  };
}
