import type * as ort from 'onnxruntime-node';

/** The onnxruntime-node module. */
export type OnnxRuntime = typeof ort;

/** onnxruntime-node as loaded here, or why it is not. */
export type OnnxRuntimeLoad = { ok: true; runtime: OnnxRuntime; version: string } | { ok: false; reason: string };

/** The package ganql serves with when it loads; an optional dependency. */
export const ONNX_RUNTIME_MODULE = 'onnxruntime-node';

/**
 * Loads onnxruntime-node (its native binding included) and says why not when it cannot: not
 * installed, no binary for this platform, or a library it needs missing. `moduleName` lets tests
 * stand in a module that is not there.
 */
export function loadOnnxRuntime(moduleName: string = ONNX_RUNTIME_MODULE): OnnxRuntimeLoad {
  try {
    // An optional native package, loaded only when asked for; a plain require keeps a missing one a value, not a crash.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtime = require(moduleName) as OnnxRuntime;
    return { ok: true, runtime, version: runtime.env.versions.node ?? runtime.env.versions.common };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `${moduleName} did not load: ${text.split('\n')[0]}` };
  }
}
