import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** A graphql-ws client on ganql's /graphql (ws://), through the ws package, as a Node client would connect. */
export function wsClient(httpUrl: string): Client {
  return createClient({ url: httpUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
}

export interface Subscription<T> {
  /** Every `next` payload, in order (data or errors). */
  results: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] }[];
  /** Resolves when the server completes the stream; rejects on a transport error. */
  done: Promise<void>;
  /** Resolves with the first result for which `test` holds (already received or later). */
  waitFor(test: (data: T) => boolean, timeoutMs?: number): Promise<T>;
}

/** Subscribes and records what comes. */
export function subscribe<T>(client: Client, query: string, variables: Record<string, unknown> = {}): Subscription<T> {
  const results: Subscription<T>['results'] = [];
  const waiters: { test: (data: T) => boolean; resolve: (data: T) => void }[] = [];
  const done = new Promise<void>((resolve, reject) => {
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          const result = value as Subscription<T>['results'][number];
          results.push(result);
          const data = result.data;
          if (!data) return;
          for (const w of waiters.splice(0)) {
            if (w.test(data)) w.resolve(data);
            else waiters.push(w);
          }
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(),
      },
    );
  });
  return {
    results,
    done,
    waitFor(test, timeoutMs = 120_000) {
      const seen = results.find((r) => r.data && test(r.data));
      if (seen?.data) return Promise.resolve(seen.data);
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(results).slice(0, 2000)}`)), timeoutMs);
        waiters.push({ test, resolve: (d) => (clearTimeout(timer), resolve(d)) });
        done.then(() => reject(new Error(`the stream completed without a matching event; got ${JSON.stringify(results).slice(0, 2000)}`)), reject);
      });
    },
  };
}
