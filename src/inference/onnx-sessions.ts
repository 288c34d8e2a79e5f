import type * as tf from '@tensorflow/tfjs';
import { exportOnnx } from '../onnx/export-onnx';
import type { OnnxRuntime } from '../onnx/onnx-runtime';
import { OnnxSession } from '../onnx/onnx-session';
import type { FilterRemoval } from './layer-passes';

/** The engine name generate and classify report when ONNX Runtime computes them. */
export const ONNX_ENGINE = 'onnxruntime';

/**
 * How a process names what computes, in serverInfo, /healthz, /metrics and runs: the tfjs backend, as
 * "onnxruntime+<backend>" when ONNX Runtime serves generate and classify beside it.
 */
export function servingEngine(tfjsBackend: string, onnx: boolean): string {
  return onnx ? `${ONNX_ENGINE}+${tfjsBackend}` : tfjsBackend;
}

/** ONNX Runtime as an executor serves with it: the loaded module and the threads of each session. */
export interface OnnxServing {
  runtime: OnnxRuntime;
  /** Intra-op threads per session (GANQL_ONNX_THREADS). */
  threads: number;
}

/** A model's passes on ONNX Runtime, as sessions built from its served tfjs networks. */
export interface OnnxSessions {
  generator?: OnnxSession;
  classifier?: OnnxSession;
}

/** Which passes of a model ONNX Runtime serves, and why any other stays on tfjs (one line each). */
export interface OnnxPasses {
  generate: boolean;
  classify: boolean;
  fallbacks: string[];
}

/**
 * Sessions for the generator and the classifier of one model (those it has), each exported in memory
 * from the served tfjs network (batchnorm and weight norm already folded, so both engines compute
 * the same arithmetic). A network that cannot be exported or loaded stays on tfjs, and `passes`
 * says why: export is deterministic, so every worker decides alike.
 */
export async function buildOnnxSessions(
  networks: { generator?: tf.LayersModel; classifier?: tf.LayersModel },
  serving: OnnxServing,
): Promise<{ sessions: OnnxSessions; passes: OnnxPasses }> {
  const sessions: OnnxSessions = {};
  const fallbacks: string[] = [];
  const build = async (network: tf.LayersModel, what: string, names: { inputName: string; outputName: string }): Promise<OnnxSession | undefined> => {
    try {
      return await OnnxSession.create(serving.runtime, exportOnnx(network, names), { threads: serving.threads });
    } catch (error) {
      fallbacks.push(`${what} stays on tfjs: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };
  if (networks.generator !== undefined) sessions.generator = await build(networks.generator, 'generator', { inputName: 'latent', outputName: 'image' });
  if (networks.classifier !== undefined) sessions.classifier = await build(networks.classifier, 'classifier', { inputName: 'image', outputName: 'logits' });
  return { sessions, passes: { generate: sessions.generator !== undefined, classify: sessions.classifier !== undefined, fallbacks } };
}

export function releaseOnnxSessions(sessions: OnnxSessions | undefined): void {
  // Releasing frees ONNX Runtime's memory; nothing waits on it.
  void sessions?.generator?.release();
  void sessions?.classifier?.release();
}

/**
 * The engine that computes `pass` of a model with these ONNX passes (undefined: none), on an
 * executor whose tfjs backend is `tfjsBackend`. A generator with filters removed runs on tfjs,
 * which can zero a layer's feature maps.
 */
export function engineOf(passes: OnnxPasses | undefined, pass: 'generate' | 'classify', tfjsBackend: string, removal?: FilterRemoval): string {
  if (passes === undefined) return tfjsBackend;
  if (pass === 'classify') return passes.classify ? ONNX_ENGINE : tfjsBackend;
  return passes.generate && (removal === undefined || removal.filters.length === 0) ? ONNX_ENGINE : tfjsBackend;
}
