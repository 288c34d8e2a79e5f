import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '../db/database';
import { ErrorCode } from '../errors/error-code';
import { badInput, GanqlError, notFound } from '../errors/ganql-error';
import { UnreachableCaseError } from '../errors/unreachable';
import { modelSpec } from '../inference/model-spec';
import type { InferencePool } from '../inference/pool';
import type { Logger } from '../log/logger';
import { readManifest } from '../models/manifest';
import { archivedFromRow, generates, modelId, type ArchivedModel, type ModelEntry, type ModelRegistry } from '../models/model-registry';
import { checkedAliasName, DEFAULT_ALIAS, ModelStateStore, type StateRefusal } from '../models/model-state.store';
import type { RunService } from '../runs/run.service';

/** The folder of the shipped DCGAN under the models root: the `default` alias's seed when GANQL_DEFAULT_MODEL is unset. */
export const SHIPPED_DEFAULT_FOLDER = 'dcgan-mnist';

/** Setters whose alias the next start's seed may move (see seedDefault). */
const SEED_PREFIX = 'seed: ';

/** One alias as recorded. */
export interface AliasView {
  alias: string;
  modelId: string;
  /** Who set it: "key <id> (<name>)", "anonymous (loopback)", or "seed: <source>". */
  setBy: string;
  setAt: Date;
}

/**
 * Model management an operator does (admin scope): aliases that name versions (`default` is what a
 * query naming no model serves), and archiving a version (it stops being served everywhere, its
 * records stay) or serving it again. Each change is one run (SET_MODEL_ALIAS, DELETE_MODEL_ALIAS,
 * ARCHIVE_MODEL, UNARCHIVE_MODEL) and lands in the database first, so every replica agrees: the one
 * that made it applies it at once, the others at their next poll (sync).
 */
export class ModelAdminService {
  private readonly store: ModelStateStore;
  /** Changes and polls, one at a time: a poll never reads the state half-way through a change made here. */
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly registry: ModelRegistry,
    private readonly pool: InferencePool,
    private readonly runs: RunService,
    private readonly log: Logger,
  ) {
    this.store = new ModelStateStore(db);
  }

  /**
   * Seeds the `default` alias at start: GANQL_DEFAULT_MODEL (`configured`), else the shipped DCGAN,
   * else the only served model with a generator. An alias someone set with setModelAlias stays as they set it (a
   * configured default that differs is logged); one a seed set follows the seed. A change is a
   * SET_MODEL_ALIAS run.
   */
  async seedDefault(configured: string | undefined): Promise<void> {
    const seed = this.seedTarget(configured);
    const current = await this.db.prisma.modelAlias.findUnique({ where: { name: DEFAULT_ALIAS } });
    if (seed === undefined) {
      if (current === null) this.log.warn(`no "${DEFAULT_ALIAS}" model: queries that name no model are refused until setModelAlias sets one`);
      return;
    }
    if (current !== null && (current.modelId === seed.modelId || !current.setBy.startsWith(SEED_PREFIX))) {
      if (current.modelId !== seed.modelId && configured !== undefined) {
        this.log.warn(`GANQL_DEFAULT_MODEL is not applied: the "${DEFAULT_ALIAS}" alias was set with setModelAlias, which wins`, {
          configured,
          alias: DEFAULT_ALIAS,
          modelId: current.modelId,
          setBy: current.setBy,
          setAt: current.setAt.toISOString(),
        });
      }
      return;
    }
    const setBy = `${SEED_PREFIX}${seed.source}`;
    await this.runs.record({ kind: 'SET_MODEL_ALIAS', modelId: seed.modelId, parameters: { alias: DEFAULT_ALIAS, modelId: seed.modelId, setBy } }, async () => {
      const wrote = await this.store.seedAlias(DEFAULT_ALIAS, seed.modelId, setBy, new Date());
      await this.refreshAliases();
      return { value: undefined, result: { alias: DEFAULT_ALIAS, modelId: seed.modelId, previousModelId: current?.modelId ?? null, written: wrote } };
    });
    this.log.info(`"${DEFAULT_ALIAS}" alias seeded`, { modelId: seed.modelId, setBy });
  }

  /** Every alias, by name. */
  async aliases(): Promise<AliasView[]> {
    const rows = await this.db.prisma.modelAlias.findMany({ orderBy: { name: 'asc' } });
    return rows.map((r) => ({ alias: r.name, modelId: r.modelId, setBy: r.setBy, setAt: r.setAt }));
  }

  /**
   * Points `alias` at the version `ref` names (a model id, or an alias whose target it takes now: a
   * copy, not a link), creating or moving it. BAD_USER_INPUT for a malformed alias, and for `default`
   * on a version without a generator; NOT_FOUND for an unknown or archived version.
   */
  setAlias(alias: string, ref: string, setBy: string): Promise<AliasView> {
    return this.runs.record({ kind: 'SET_MODEL_ALIAS', parameters: { alias, modelId: ref, setBy } }, (run) =>
      this.exclusive(async () => {
        checkedAliasName(alias);
        // Served here, with the registry's own NOT_FOUND message for an unknown or archived version; `default`
        // serves samples and the latent operations, so it must name a version with a generator.
        const model = alias === DEFAULT_ALIAS ? this.registry.getGenerating(ref) : this.registry.get(this.registry.idOf(ref));
        run.setModel(model.id);
        const previous = await this.db.prisma.modelAlias.findUnique({ where: { name: alias } });
        const at = new Date();
        const refusal = await this.store.setAlias(alias, model.id, setBy, at);
        if (refusal !== undefined) throw refused('setModelAlias', model.id, refusal);
        await this.refreshAliases();
        return { value: { alias, modelId: model.id, setBy, setAt: at }, result: { alias, modelId: model.id, previousModelId: previous?.modelId ?? null } };
      }),
    );
  }

  /** Removes an alias; `default` cannot be removed (queries naming no model use it). NOT_FOUND for an unknown alias. */
  deleteAlias(alias: string, deletedBy: string): Promise<AliasView> {
    return this.runs.record({ kind: 'DELETE_MODEL_ALIAS', parameters: { alias, deletedBy } }, (run) =>
      this.exclusive(async () => {
        checkedAliasName(alias);
        if (alias === DEFAULT_ALIAS) {
          throw badInput(
            `alias: expected an alias other than "${DEFAULT_ALIAS}" (queries that name no model use it; setModelAlias points it elsewhere), got "${DEFAULT_ALIAS}"`,
          );
        }
        const row = await this.db.prisma.modelAlias.findUnique({ where: { name: alias } });
        if (row === null || !(await this.store.deleteAlias(alias))) throw new GanqlError(ErrorCode.NOT_FOUND, `model alias ${JSON.stringify(alias)} not found`);
        run.setModel(row.modelId);
        await this.refreshAliases();
        return { value: { alias, modelId: row.modelId, setBy: row.setBy, setAt: row.setAt }, result: { alias, modelId: row.modelId } };
      }),
    );
  }

  /**
   * Archives a served version: it is unloaded from the inference pool and its workers, hidden from
   * `models`, and every request for new work with it is NOT_FOUND, here at once and on other
   * replicas within a poll; its runs, samples and evaluations stay readable. Refused while an alias
   * names it (BAD_USER_INPUT naming them), and for an archived or unknown version.
   */
  archive(ref: string, archivedBy: string): Promise<ModelEntry> {
    return this.runs.record({ kind: 'ARCHIVE_MODEL', parameters: { modelId: ref, archivedBy } }, (run) =>
      this.exclusive(async () => {
        const entry = this.registry.describe(ref);
        const id = entry.model.id;
        run.setModel(id);
        if (!entry.served) throw badInput(`modelId: expected a served model version, got ${id}, archived since ${entry.model.archivedAt.toISOString()}`);
        const archivedAt = new Date();
        const refusal = await this.store.archive(id, archivedBy, archivedAt);
        if (refusal !== undefined) throw refused('archiveModel', id, refusal);
        await this.unloadHere(id, { archivedAt, archivedBy });
        this.log.info('model archived', { modelId: id, archivedBy });
        return { value: this.registry.describe(id), result: { modelId: id } };
      }),
    );
  }

  /** Serves an archived version again: loaded from its folder into the registry and the pool, here at once and on other replicas within a poll. */
  unarchive(ref: string, unarchivedBy: string): Promise<ModelEntry> {
    return this.runs.record({ kind: 'UNARCHIVE_MODEL', parameters: { modelId: ref, unarchivedBy } }, (run) =>
      this.exclusive(async () => {
        const entry = this.registry.describe(ref);
        const id = entry.model.id;
        run.setModel(id);
        if (entry.served) throw badInput(`modelId: expected an archived model version, got ${id}, which is served`);
        const archived = entry.model;
        if (!existsSync(path.join(this.registry.root, archived.path, 'manifest.json'))) {
          throw new GanqlError(
            ErrorCode.NOT_FOUND,
            `model ${id}: its folder ${JSON.stringify(archived.path)} is not in this server's models folder, so it cannot be served`,
          );
        }
        const refusal = await this.store.unarchive(id);
        if (refusal !== undefined && refusal.kind === 'unknown') throw refused('unarchiveModel', id, refusal);
        try {
          await this.loadHere(archived);
        } catch (error) {
          // Not servable here: archived again as it was, so no replica serves it half-way.
          await this.store.rearchive(id, archived.archivedBy, archived.archivedAt);
          throw error;
        }
        this.log.info('model unarchived', { modelId: id, unarchivedBy });
        return { value: this.registry.describe(id), result: { modelId: id } };
      }),
    );
  }

  /**
   * Applies what other replicas changed: reads the aliases and archive marks (one query) and unloads
   * versions archived elsewhere, loads versions unarchived elsewhere, and takes the aliases as they are.
   */
  sync(): Promise<void> {
    return this.exclusive(async () => {
      const state = await this.store.read();
      this.registry.setAliases(state.aliases);
      for (const id of state.archived) {
        if (this.registry.isArchived(id)) continue;
        const row = await this.db.prisma.model.findUnique({ where: { id } });
        if (row === null) continue;
        const archived = archivedFromRow(row);
        if (this.registry.isServed(id)) {
          await this.unloadHere(id, archived);
          this.log.info('model archived by another replica: unloaded', { modelId: id, archivedBy: archived.archivedBy });
        } else {
          this.registry.markArchived(archived);
        }
      }
      for (const archived of this.registry.listArchived()) {
        if (state.archived.has(archived.id)) continue;
        try {
          await this.loadHere(archived);
          this.log.info('model unarchived by another replica: loaded', { modelId: archived.id });
        } catch (error) {
          // Left to the model sync of training jobs (ServedVersions), which logs a version it cannot load once.
          this.registry.forgetArchived(archived.id);
          this.log.error('model unarchived by another replica could not be loaded here', { modelId: archived.id, error: (error as Error).message });
        }
      }
    });
  }

  /** Polls every `intervalMs` (replicas on PostgreSQL); a poll still running is not started again. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.polling ??= this.sync()
        .catch((error: unknown) => this.log.error('model state poll failed', { error: error instanceof Error ? error.message : String(error) }))
        .finally(() => (this.polling = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops polling and waits for a change or poll in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.chain.catch(() => undefined);
  }

  /** The seed of `default`: GANQL_DEFAULT_MODEL, the shipped DCGAN when served, or the only served model with a generator. */
  private seedTarget(configured: string | undefined): { modelId: string; source: string } | undefined {
    if (configured !== undefined) return { modelId: configured, source: 'GANQL_DEFAULT_MODEL' };
    const shipped = path.join(this.registry.root, SHIPPED_DEFAULT_FOLDER);
    if (existsSync(path.join(shipped, 'manifest.json'))) {
      const id = modelId(readManifest(shipped));
      if (this.registry.isServed(id) && generates(this.registry.get(id))) return { modelId: id, source: `the shipped DCGAN (${SHIPPED_DEFAULT_FOLDER})` };
    }
    const generating = this.registry.list().filter(generates);
    return generating.length === 1 ? { modelId: generating[0].id, source: 'the only served model with a generator' } : undefined;
  }

  private async refreshAliases(): Promise<void> {
    this.registry.setAliases((await this.store.read()).aliases);
  }

  /** Takes a version out of service here: out of the registry, unloaded from the pool, its generator freed. */
  private async unloadHere(id: string, info: Pick<ArchivedModel, 'archivedAt' | 'archivedBy'>): Promise<void> {
    const model = this.registry.retire(id, info);
    if (model === undefined) return;
    try {
      await this.pool.unloadModel(id);
    } finally {
      model.generator?.dispose();
    }
  }

  /** Serves an archived version here again: loaded from its folder, then into the pool, then served (still archived if either fails). */
  private async loadHere(archived: ArchivedModel): Promise<void> {
    await this.registry.restore(archived.id, (model) => this.pool.loadModel(modelSpec(model, this.registry.root)));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.chain.then(work, work);
    this.chain = result.catch(() => undefined);
    return result;
  }
}

/** The error for a change the database refused (the registry's checks passed, so another replica changed it meanwhile). */
function refused(field: string, id: string, refusal: StateRefusal): GanqlError {
  switch (refusal.kind) {
    case 'unknown':
      return notFound('model', id);
    case 'archived':
      return field === 'archiveModel'
        ? badInput(`modelId: expected a served model version, got ${id}, which is archived`)
        : new GanqlError(ErrorCode.NOT_FOUND, `${field}: model ${JSON.stringify(id)} is archived (unarchiveModel serves it again)`);
    case 'not archived':
      return badInput(`modelId: expected an archived model version, got ${id}, which is served`);
    case 'aliased':
      return badInput(
        `modelId: expected a model version no alias names, got ${id}, named by ${refusal.aliases.map((a) => `"${a}"`).join(', ')}: point ` +
          `${refusal.aliases.length === 1 ? 'it' : 'them'} at another version (setModelAlias) or delete ${refusal.aliases.length === 1 ? 'it' : 'them'} (deleteModelAlias) first; "${DEFAULT_ALIAS}" can only be moved`,
      );
    default:
      throw new UnreachableCaseError(refusal);
  }
}
