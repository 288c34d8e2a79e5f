import { existsSync } from 'node:fs';
import path from 'node:path';
import { logServing } from '../inference/choose-executor';
import type { InferencePool } from '../inference/pool';
import { modelSpec } from '../inference/model-spec';
import type { Logger } from '../log/logger';
import type { LoadedModel, ModelRegistry } from '../models/model-registry';

/** Adds the versions training jobs make (here or on other replicas) to the registry and the inference pool: servable at once. */
export class ServedVersions {
  /** Version folders being added here, which the model sync must leave alone. */
  private readonly adding = new Set<string>();
  /** Versions other replicas recorded that could not be loaded here: logged once. */
  private readonly syncRefused = new Set<string>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly pool: InferencePool,
    private readonly log: Logger,
  ) {}

  /**
   * The version in this models-root folder, servable once this resolves: registered and loaded into
   * the pool, or the one already registered (an earlier attempt of the job, or another replica, added it).
   */
  async servable(folder: string): Promise<LoadedModel> {
    const known = this.registry.list().find((m) => m.path === folder);
    if (known) return known;
    this.adding.add(folder);
    try {
      // Served once the pool has it: a request never sees a version the pool cannot compute yet.
      const model = await this.registry.add(folder, (m) => this.pool.loadModel(modelSpec(m, this.registry.root)));
      logServing(this.log, model.id, this.pool.servingOf(model.id));
      return model;
    } finally {
      this.adding.delete(folder);
    }
  }

  /** Loads the versions other replicas recorded (from the shared models folder) so this one serves them too. */
  async sync(): Promise<void> {
    for (const version of await this.registry.unloaded()) {
      if (this.adding.has(version.path) || this.syncRefused.has(version.id)) continue;
      if (!existsSync(path.join(this.registry.root, version.path, 'manifest.json'))) {
        this.syncRefused.add(version.id);
        this.log.warn('a version another replica recorded is not in this models folder; share GANQL_MODELS_DIR between replicas', {
          modelId: version.id,
          folder: version.path,
        });
        continue;
      }
      try {
        await this.servable(version.path);
        this.log.info('model loaded from another replica', { id: version.id, folder: version.path });
      } catch (error) {
        this.syncRefused.add(version.id);
        this.log.error('model from another replica not loaded', { id: version.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }
}
