import type { LoadedModel, ModelRegistry } from './model-registry';

/** What computes one pass of a model, and why not ONNX Runtime (or not the providers asked for) when there is a reason. */
export interface ModelEngine {
  pass: 'generate' | 'classify';
  /** "onnxruntime", "onnxruntime-cuda", or the tfjs backend's name. */
  engine: string;
  reason?: string;
}

/** Read access to the servable model versions. */
export class ModelService {
  constructor(
    private readonly registry: ModelRegistry,
    /** What computes in this process, as serverInfo.backend names it. */
    readonly backend: string,
    /** The engine of each pass the model serves (generate, classify), as the inference pool serves it. */
    private readonly enginesOf: (id: string) => ModelEngine[] = () => [],
  ) {}

  list(): LoadedModel[] {
    return this.registry.list().sort((a, b) => a.id.localeCompare(b.id));
  }

  /** NOT_FOUND for an unknown id. */
  get(id: string): LoadedModel {
    return this.registry.get(id);
  }

  /** What computes each pass of model `id` (generate, then classify: those it serves). */
  engines(id: string): ModelEngine[] {
    const order = { generate: 0, classify: 1 };
    return this.enginesOf(id).sort((a, b) => order[a.pass] - order[b.pass]);
  }
}
