import { loadOnnxRuntime, type OnnxRuntime } from '../../src/onnx/onnx-runtime';

/**
 * onnxruntime-node for the tests that run exported models, or why they skip (printed once). Under CI
 * a missing runtime is an error, so those tests can never be skipped silently there.
 */
export function onnxRuntimeForTests(file: string): { runtime: OnnxRuntime | undefined; skipReason: string | undefined } {
  const loaded = loadOnnxRuntime();
  if (loaded.ok) return { runtime: loaded.runtime, skipReason: undefined };
  if (process.env.CI) throw new Error(`onnxruntime-node must load under CI (npm ci installs it): ${loaded.reason}`);
  process.stderr.write(`${file}: skipping the ONNX Runtime comparisons: ${loaded.reason}\n`);
  return { runtime: undefined, skipReason: loaded.reason };
}
