import { onnx } from 'onnx-proto';
import { ONNX_OPSET } from './export-onnx';
import type { OnnxRuntime } from './onnx-runtime';
import { onnxSessionOptions, type OnnxProvider } from './onnx-session';

/** The execution providers sessions can use here, and why they are not those asked for (absent when they are). */
export interface UsableProviders {
  providers: OnnxProvider[];
  note?: string;
}

/**
 * The providers of `requested` that work on this machine. The CPU provider is built into
 * onnxruntime-node; the CUDA provider needs libraries onnxruntime-node's install script downloads
 * (ONNXRUNTIME_NODE_INSTALL=cuda12, linux/x64), CUDA 12, cuDNN 9 and a GPU. Asking for it makes a
 * session of a one-node model with the providers asked for: when that fails, sessions run on the
 * CPU provider alone and `note` says why.
 */
export async function usableProviders(runtime: OnnxRuntime, requested: readonly OnnxProvider[]): Promise<UsableProviders> {
  if (requested.length === 0) throw new Error('usableProviders: expected at least one provider, got none');
  if (!requested.includes('cuda')) return { providers: [...requested] };
  try {
    const session = await runtime.InferenceSession.create(probeModel(), onnxSessionOptions(1, requested));
    await session.release();
    return { providers: [...requested] };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return { providers: ['cpu'], note: `the CUDA execution provider did not load (${message}); ONNX Runtime runs on the CPU provider` };
  }
}

/** y = Identity(x), x a float32 [1]: the smallest model a provider must accept. */
function probeModel(): Uint8Array {
  const tensor = (name: string): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } },
  });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'ganql',
    graph: { name: 'probe', node: [{ opType: 'Identity', input: ['x'], output: ['y'] }], input: [tensor('x')], output: [tensor('y')] },
  }).finish();
}
