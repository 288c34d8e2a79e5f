import type { Prisma } from '../db/database';
import type { ModelEntry, ModelRegistry } from './model-registry';

/** What computes one pass of a model, and why not ONNX Runtime (or not the providers asked for) when there is a reason. */
export interface ModelEngine {
  pass: 'generate' | 'classify';
  /** "onnxruntime", "onnxruntime-cuda", or the tfjs backend's name. */
  engine: string;
  reason?: string;
}

/** Where a version came from, beyond its manifest: the version it was fine-tuned from and the training job that made it. */
export interface ModelLineage {
  /** The version it was fine-tuned from; null when it trained from scratch. */
  parentModelId: string | null;
  /** The startTraining job that made it (its final version or one it kept); null for versions trained by `npm run train`. */
  trainingJobId: string | null;
}

/** Read access to the model versions: the served ones, the archived ones, their aliases, lineage and engines. */
export class ModelService {
  constructor(
    private readonly registry: ModelRegistry,
    /** What computes in this process, as serverInfo.backend names it. */
    readonly backend: string,
    private readonly prisma: Prisma,
    /** The engine of each pass a served version serves (generate, classify), as the inference pool serves it; none for an archived one. */
    private readonly enginesOf: (id: string) => ModelEngine[] = () => [],
  ) {}

  /** The served versions by id, and the archived ones too when asked. */
  list(includeArchived = false): ModelEntry[] {
    const served: ModelEntry[] = this.registry.list().map((model) => ({ served: true, model }));
    const archived: ModelEntry[] = includeArchived ? this.registry.listArchived().map((model) => ({ served: false, model })) : [];
    return [...served, ...archived].sort((a, b) => a.model.id.localeCompare(b.model.id));
  }

  /** The version a model id or alias names, served or archived; NOT_FOUND for an unknown one. */
  describe(ref: string): ModelEntry {
    return this.registry.describe(ref);
  }

  /** The aliases naming this version, sorted. */
  aliasesOf(id: string): string[] {
    return this.registry.aliasesOf(id);
  }

  /**
   * The parent and training job of a version: the manifest's fineTuneFrom when it has one, else the
   * training job that made it (as its final version or a kept epoch) and that job's parent.
   */
  async lineage(entry: ModelEntry): Promise<ModelLineage> {
    const { id, manifest } = entry.model;
    const job =
      (await this.prisma.trainingJob.findFirst({ where: { modelId: id }, select: { id: true, parentModelId: true } })) ??
      (await this.prisma.trainingEpoch.findFirst({ where: { keptModelId: id }, select: { job: { select: { id: true, parentModelId: true } } } }))?.job ??
      null;
    return { parentModelId: manifest.training.fineTuneFrom ?? job?.parentModelId ?? null, trainingJobId: job?.id ?? null };
  }

  /** What computes each pass of model `id` (generate, then classify: those it serves; none when it is archived). */
  engines(id: string): ModelEngine[] {
    const order = { generate: 0, classify: 1 };
    return this.enginesOf(id).sort((a, b) => order[a.pass] - order[b.pass]);
  }
}
