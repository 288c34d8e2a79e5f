/*
 * The part of onnxruntime-node's API ganql uses, declared here rather than imported from the package:
 * it is an optional dependency, and ganql type-checks, lints and builds where it is not installed.
 * test/onnx/runtime-types.test.ts holds the installed package to them; the ONNX tests use the rest.
 */

/** A tensor ONNX Runtime takes or returns (ort.Tensor). */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: { readonly length: number };
  dispose(): void;
}

/** What a session says of one of its inputs or outputs (ort.InferenceSession.ValueMetadata). */
export type OrtValueMetadata =
  | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: ReadonlyArray<number | string> }
  | { readonly name: string; readonly isTensor: false };

/** The session options ganql sets (a subset of ort.InferenceSession.SessionOptions). */
export interface OrtSessionOptions {
  executionProviders?: string[];
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
  executionMode?: 'sequential' | 'parallel';
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/** An inference session (ort.InferenceSession). */
export interface OrtInferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly OrtValueMetadata[];
  readonly outputMetadata: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

/** The onnxruntime-node module, as ganql uses it. */
export interface OnnxRuntime {
  readonly InferenceSession: { create(model: string | Uint8Array, options?: OrtSessionOptions): Promise<OrtInferenceSession> };
  readonly Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
  readonly env: { readonly versions: { readonly common: string; readonly node?: string } };
}

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
