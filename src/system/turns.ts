/**
 * Turns of the event loop handed out one at a time. When one event finishes many requests at once
 * (the commit of an inference batch's runs ends the work of up to a batch of requests), each request
 * would otherwise write its whole answer (GraphQL completion, JSON, the socket) in the same turn, one
 * after another, and everything else the server has to do (a `/healthz` probe, reading new requests)
 * waits for all of them. `ownTurn()` resolves in a later turn, oldest first, PER_TURN callers a turn,
 * with the event loop's I/O polled between two turns, so such a burst is spread out and other work
 * interleaves. Measured with bench/serving.ts (docs/development.md): 1 or 2 a turn keep `/healthz`'s
 * p99 under saturation at 11-15 ms (21 ms with none), 4 a turn lets it back to 23-27 ms.
 */
const waiting: (() => void)[] = [];
let scheduled = false;

/** Resolves in a later turn of the event loop (a setImmediate callback), after those asked for before it. */
export function ownTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!scheduled) {
      scheduled = true;
      setImmediate(next);
    }
  });
}

/** Callers resumed in one turn. */
const PER_TURN = 2;

function next(): void {
  const resolved = waiting.splice(0, PER_TURN);
  // Scheduled from inside this check phase, the next one runs in the next iteration of the loop, after its poll for I/O.
  if (waiting.length > 0) setImmediate(next);
  else scheduled = false;
  for (const resolve of resolved) resolve();
}
