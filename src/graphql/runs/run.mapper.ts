import type { RunPage, RunRecord } from '../../runs/run.store';
import type { Run, RunConnection } from './run.type';

export function toRun(record: RunRecord): Run {
  return {
    ...record,
    parameters: JSON.parse(record.parameters) as unknown,
    result: record.result === null ? null : (JSON.parse(record.result) as unknown),
  };
}

export function toRunConnection(page: RunPage): RunConnection {
  const edges = page.runs.map((run) => ({ cursor: run.id, node: toRun(run) }));
  return {
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: page.totalCount,
  };
}
