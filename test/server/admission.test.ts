import express from 'express';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../src/server/admission';

/** An app whose /work waits until released, behind admission control. */
function setup(maxConcurrent: number, maxWaiting: number) {
  const admission = createAdmission({ maxConcurrent, maxWaiting, onReject: () => rejected++ });
  let rejected = 0;
  const gates: (() => void)[] = [];
  const order: number[] = [];
  const app = express();
  app.get('/work/:n', admission.middleware, (req, res) => {
    order.push(Number(req.params.n));
    gates.push(() => res.json({ n: Number(req.params.n) }));
  });
  app.get('/healthz', (_req, res) => res.json({ ok: true }));
  const server = app.listen(0);
  const http = supertest(server);
  return { admission, gates, order, http, server, rejected: () => rejected };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('admission control', () => {
  it('runs at most maxConcurrent at once, admits waiting ones in order, and refuses beyond maxWaiting with OVERLOADED', async () => {
    const t = setup(2, 2);
    try {
      const pending = [1, 2, 3, 4].map((n) => t.http.get(`/work/${n}`).then((r) => r.body.n as number));
      await until(() => t.admission.stats().active === 2 && t.admission.stats().waiting === 2);
      expect(t.order).toEqual([1, 2]);

      const refused = await t.http.get('/work/5');
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.body.errors[0]).toMatchObject({ extensions: { code: 'OVERLOADED' } });
      expect(refused.body.errors[0].message).toBe('server busy (2 requests in progress, 2 waiting, limit 2); retry later');
      expect(t.rejected()).toBe(1);

      // Cheap routes outside admission are served while the API is full.
      expect((await t.http.get('/healthz')).body).toEqual({ ok: true });

      t.gates.shift()!();
      await until(() => t.order.length === 3);
      expect(t.order).toEqual([1, 2, 3]);
      while (t.order.length < 4 || t.gates.length > 0) {
        t.gates.shift()?.();
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(await Promise.all(pending)).toEqual([1, 2, 3, 4]);
      await until(() => t.admission.stats().active === 0);
      expect(t.admission.stats()).toEqual({ active: 0, waiting: 0 });
    } finally {
      t.server.close();
    }
  });

  it('rejects invalid limits with the option named', () => {
    expect(() => createAdmission({ maxConcurrent: 0, maxWaiting: 1 })).toThrow('admission: expected maxConcurrent to be an integer >= 1, got 0');
    expect(() => createAdmission({ maxConcurrent: 1, maxWaiting: -1 })).toThrow('admission: expected maxWaiting to be an integer >= 0, got -1');
  });
});
