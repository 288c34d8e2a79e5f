import type { LoadedModel, ModelRegistry } from './model-registry';

/** Read access to the servable model versions. */
export class ModelService {
  constructor(
    private readonly registry: ModelRegistry,
    /** What computes in this process, as serverInfo.backend names it. */
    readonly backend: string,
  ) {}

  list(): LoadedModel[] {
    return this.registry.list().sort((a, b) => a.id.localeCompare(b.id));
  }

  /** NOT_FOUND for an unknown id. */
  get(id: string): LoadedModel {
    return this.registry.get(id);
  }
}
