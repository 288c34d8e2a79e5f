import type { Database } from '../db/database';
import { badInput } from '../errors/ganql-error';

/** The alias a query that names no model uses. */
export const DEFAULT_ALIAS = 'default';

/** Alias names: no '@', so an alias can never be read as a model id ("<name>@<version>"). */
const ALIAS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `name` if it is a well-formed alias, else BAD_USER_INPUT saying what an alias looks like. */
export function checkedAliasName(name: string, field = 'alias'): string {
  if (!ALIAS_PATTERN.test(name)) {
    throw badInput(
      `${field}: expected 1-64 letters, digits, '.', '_' or '-' starting with a letter or digit (no '@': model ids hold one), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** True when `ref` names a model id rather than an alias: every id is "<name>@<version>". */
export function isModelId(ref: string): boolean {
  return ref.includes('@');
}

/** Which versions are archived and where each alias points, as every replica sharing the database sees them. */
export interface ModelState {
  /** Alias name -> model id. */
  aliases: Map<string, string>;
  /** Ids of archived versions. */
  archived: Set<string>;
}

/** Why a guarded change of the model state wrote nothing. */
export type StateRefusal = { kind: 'unknown' } | { kind: 'archived' } | { kind: 'not archived' } | { kind: 'aliased'; aliases: string[] };

/**
 * Every write of the ModelAlias table and of Model.archivedAt, and the read replicas poll. Each write
 * is one transaction that first locks the version's Model row, so "an alias never points at an
 * archived version" holds when an alias is set and the version archived at once on two replicas:
 * whichever comes second sees the other's change and is refused.
 */
export class ModelStateStore {
  constructor(private readonly db: Database) {}

  /** The aliases and the archived ids in one round trip (a driver statement, not Prisma: replicas poll it every second). */
  async read(): Promise<ModelState> {
    const rows = await this.db.query<{ kind: string; a: string; b: string | null }>(
      'SELECT \'alias\' AS "kind", "name" AS "a", "modelId" AS "b" FROM "ModelAlias" UNION ALL SELECT \'archived\', "id", NULL FROM "Model" WHERE "archivedAt" IS NOT NULL',
      [],
    );
    const state: ModelState = { aliases: new Map(), archived: new Set() };
    for (const row of rows) {
      if (row.kind === 'alias' && row.b !== null) state.aliases.set(row.a, row.b);
      else state.archived.add(row.a);
    }
    return state;
  }

  /** Points `name` at `modelId` (created or moved); refused when the version is unknown or archived. */
  async setAlias(name: string, modelId: string, setBy: string, at: Date): Promise<StateRefusal | undefined> {
    const done = await this.db.executeAll([
      lockServed(modelId),
      {
        sql:
          'INSERT INTO "ModelAlias" ("name", "modelId", "setBy", "setAt") VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT ("name") DO UPDATE SET "modelId" = excluded."modelId", "setBy" = excluded."setBy", "setAt" = excluded."setAt"',
        params: [name, modelId, setBy, at],
      },
    ]);
    return done === null ? this.whyNot(modelId) : undefined;
  }

  /**
   * The start-up seed: points `name` at `modelId` unless an alias of that name was set by someone
   * (an alias a seed set follows the seed). True when it wrote.
   */
  async seedAlias(name: string, modelId: string, setBy: string, at: Date): Promise<boolean> {
    const done = await this.db.executeAll([
      lockServed(modelId),
      {
        sql:
          'INSERT INTO "ModelAlias" ("name", "modelId", "setBy", "setAt") VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT ("name") DO UPDATE SET "modelId" = excluded."modelId", "setBy" = excluded."setBy", "setAt" = excluded."setAt" ' +
          'WHERE "ModelAlias"."setBy" LIKE \'seed:%\' AND "ModelAlias"."modelId" <> excluded."modelId"',
        params: [name, modelId, setBy, at],
        expectChange: true,
      },
    ]);
    return done !== null;
  }

  /** Removes an alias; false when there was none. */
  async deleteAlias(name: string): Promise<boolean> {
    return (await this.db.execute('DELETE FROM "ModelAlias" WHERE "name" = ?', [name])) > 0;
  }

  /** Archives a served version; refused when it is unknown, already archived, or an alias points at it. */
  async archive(modelId: string, archivedBy: string, at: Date): Promise<StateRefusal | undefined> {
    const done = await this.db.executeAll([
      lockServed(modelId),
      {
        // A statement of its own after the lock: on PostgreSQL it reads aliases committed while it waited.
        sql: 'UPDATE "Model" SET "archivedAt" = ?, "archivedBy" = ? WHERE "id" = ? AND NOT EXISTS (SELECT 1 FROM "ModelAlias" WHERE "modelId" = ?)',
        params: [at, archivedBy, modelId, modelId],
        expectChange: true,
      },
    ]);
    return done === null ? this.whyNot(modelId) : undefined;
  }

  /** Serves an archived version again; refused when it is unknown or not archived. */
  async unarchive(modelId: string): Promise<StateRefusal | undefined> {
    const changed = await this.db.execute('UPDATE "Model" SET "archivedAt" = NULL, "archivedBy" = NULL WHERE "id" = ? AND "archivedAt" IS NOT NULL', [modelId]);
    if (changed > 0) return undefined;
    const refusal = await this.whyNot(modelId);
    return refusal.kind === 'unknown' ? refusal : { kind: 'not archived' };
  }

  /** Puts an archive back as it was (an unarchive whose version then failed to load). */
  async rearchive(modelId: string, archivedBy: string | null, at: Date): Promise<void> {
    await this.db.execute('UPDATE "Model" SET "archivedAt" = ?, "archivedBy" = ? WHERE "id" = ? AND "archivedAt" IS NULL', [at, archivedBy, modelId]);
  }

  /** Why a guarded write on `modelId` changed nothing, read after it. */
  private async whyNot(modelId: string): Promise<StateRefusal> {
    const [row] = await this.db.query<{ archived: number | boolean }>('SELECT ("archivedAt" IS NOT NULL) AS "archived" FROM "Model" WHERE "id" = ?', [modelId]);
    if (row === undefined) return { kind: 'unknown' };
    if (row.archived === true || row.archived === 1) return { kind: 'archived' };
    const aliases = await this.db.query<{ name: string }>('SELECT "name" FROM "ModelAlias" WHERE "modelId" = ? ORDER BY "name"', [modelId]);
    return { kind: 'aliased', aliases: aliases.map((a) => a.name) };
  }
}

/** Locks the version's row for the rest of the transaction, and changes nothing (so rolls back) unless it exists unarchived. */
function lockServed(modelId: string) {
  return { sql: 'UPDATE "Model" SET "archivedAt" = "archivedAt" WHERE "id" = ? AND "archivedAt" IS NULL', params: [modelId], expectChange: true };
}
