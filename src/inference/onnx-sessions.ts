import type { OnnxRuntime } from '../onnx/onnx-runtime';
import { OnnxSession, type OnnxProvider } from '../onnx/onnx-session';
import type { FilterRemoval } from './layer-passes';

/** The engine name generate and classify report when ONNX Runtime computes them on the CPU provider. */
export const ONNX_ENGINE = 'onnxruntime';
/** ... and on the CUDA provider: its floats are not the CPU provider's, so a sample records which. */
export const ONNX_CUDA_ENGINE = 'onnxruntime-cuda';

/**
 * How a process names what computes, in serverInfo, /healthz, /metrics and runs: the tfjs backend, as
 * "<onnx engine>+<backend>" when ONNX Runtime serves generate and classify beside it.
 */
export function servingEngine(tfjsBackend: string, onnxEngine: string | undefined): string {
  return onnxEngine !== undefined ? `${onnxEngine}+${tfjsBackend}` : tfjsBackend;
}

/** What a thread needs to build ONNX Runtime sessions; plain data, so it goes to workers as is. */
export interface OnnxSessionSettings {
  /** Intra-op threads per session (GANQL_ONNX_THREADS). */
  threads: number;
  /** The execution providers that work here, in order (CUDA only when it loaded at start). */
  providers: OnnxProvider[];
}

/** ONNX Runtime as this process serves with it (see onnxServing in the server). */
export interface OnnxServing extends OnnxSessionSettings {
  runtime: OnnxRuntime;
  /** ONNX_ENGINE, or ONNX_CUDA_ENGINE when the CUDA provider loaded. */
  engine: string;
  /** Why the sessions do not use the providers asked for (CUDA asked for and unavailable); absent when they do. */
  providerNote?: string;
}

/**
 * How one network of a model is served, decided once on the main thread when the model loads
 * (prepareOnnx): on ONNX Runtime from these bytes, checked against tfjs; or on tfjs, and why.
 */
export type NetworkPlan =
  | {
      engine: 'onnx';
      /** The ONNX model, as in its file (or exported in memory when the file could not be written). */
      bytes: Uint8Array;
      /** Where the bytes came from: "<file> (read)", or why it was exported again and whether it was written. */
      source: string;
      /** Largest difference from tfjs on the seeded check inputs. */
      maxAbsDiff: number;
    }
  | { engine: 'tfjs'; reason: string };

/** The plans of a model's networks ONNX Runtime could serve: its generator and its K+1 classifier, those it has. */
export interface OnnxPlan {
  generator?: NetworkPlan;
  classifier?: NetworkPlan;
}

/** A model's passes on ONNX Runtime, as sessions built from its plan. */
export interface OnnxSessions {
  generator?: OnnxSession;
  classifier?: OnnxSession;
}

/** Sessions for the networks `plan` serves on ONNX Runtime; all or none (a failure releases those made, and throws). */
export async function buildOnnxSessions(plan: OnnxPlan | undefined, runtime: OnnxRuntime, settings: OnnxSessionSettings): Promise<OnnxSessions> {
  const sessions: OnnxSessions = {};
  try {
    for (const network of ['generator', 'classifier'] as const) {
      const p = plan?.[network];
      if (p?.engine === 'onnx') sessions[network] = await OnnxSession.create(runtime, p.bytes, settings);
    }
    return sessions;
  } catch (error) {
    releaseOnnxSessions(sessions);
    throw error;
  }
}

export function releaseOnnxSessions(sessions: OnnxSessions | undefined): void {
  // Releasing frees ONNX Runtime's memory; nothing waits on it.
  void sessions?.generator?.release();
  void sessions?.classifier?.release();
}

/** What computes one pass of a model, and why not ONNX Runtime when it is tfjs (or why not the providers asked for). */
export interface PassServing {
  engine: string;
  reason?: string;
  /** On ONNX Runtime: where its ONNX model came from (the file read, or exported and written or kept in memory), and its check. */
  source?: string;
}

/** The passes a model serves: generate (with a generator) and classify (with a classifier). */
export interface ModelServing {
  generate?: PassServing;
  classify?: PassServing;
}

/**
 * The serving of a model with these networks and this plan, on an executor whose tfjs backend is
 * `tfjsBackend`, with ONNX Runtime (`onnx`) or without it.
 */
export function modelServing(
  networks: { generator: boolean; classifier: boolean },
  plan: OnnxPlan | undefined,
  tfjsBackend: string,
  onnx: Pick<OnnxServing, 'engine' | 'providerNote'> | undefined,
): ModelServing {
  const pass = (network: NetworkPlan | undefined): PassServing => {
    if (onnx === undefined || network === undefined) return { engine: tfjsBackend };
    if (network.engine === 'tfjs') return { engine: tfjsBackend, reason: network.reason };
    const source = `${network.source}; checked against tfjs, max abs difference ${network.maxAbsDiff.toExponential(2)}`;
    return { engine: onnx.engine, source, ...(onnx.providerNote !== undefined ? { reason: onnx.providerNote } : {}) };
  };
  return {
    ...(networks.generator ? { generate: pass(plan?.generator) } : {}),
    ...(networks.classifier ? { classify: pass(plan?.classifier) } : {}),
  };
}

/**
 * The engines that can compute `pass` of a model served as `serving`, the one it uses by default
 * first: its ONNX Runtime engine, then the tfjs backend (which can compute every pass). A generator
 * with filters removed runs on tfjs only, which can zero a layer's feature maps.
 */
export function enginesOf(serving: ModelServing, pass: 'generate' | 'classify', tfjsBackend: string, removal?: FilterRemoval): string[] {
  const engine = serving[pass]?.engine ?? tfjsBackend;
  if (pass === 'generate' && removal !== undefined && removal.filters.length > 0) return [tfjsBackend];
  return engine === tfjsBackend ? [tfjsBackend] : [engine, tfjsBackend];
}

/**
 * Whether a generate asked of `engine` (default: the first of `engines`) runs on tfjs; an Error when
 * `engine` cannot compute it (not among `engines`).
 */
export function generateOnTfjs(engines: readonly string[], engine: string | undefined, tfjsBackend: string, modelId: string): boolean | Error {
  const chosen = engine ?? engines[0];
  if (!engines.includes(chosen)) return new Error(`executor: expected an engine among ${engines.join(', ')} for ${modelId}, got ${JSON.stringify(chosen)}`);
  return chosen === tfjsBackend;
}

/** The passes of `serving` as a list, generate first. */
export function servedPasses(serving: ModelServing): ({ pass: 'generate' | 'classify' } & PassServing)[] {
  return (['generate', 'classify'] as const).flatMap((pass) => {
    const s = serving[pass];
    return s === undefined ? [] : [{ pass, ...s }];
  });
}
