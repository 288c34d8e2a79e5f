import { describe, expect, it } from 'vitest';
import { onnxRuntimeForTests } from '../helpers/onnx-runtime';

const { runtime, skipReason } = onnxRuntimeForTests(__filename);

// ganql declares the part of onnxruntime-node it uses (src/onnx/onnx-runtime.ts) so that it type-checks
// where the optional package is absent; this holds the installed package to those declarations.
describe.skipIf(skipReason !== undefined)('onnxruntime-node against the API ganql declares for it', () => {
  it('has InferenceSession.create, a float32 Tensor with dims, data and dispose, and its versions', () => {
    if (runtime === undefined) throw new Error('expected onnxruntime-node to load');
    expect(typeof runtime.InferenceSession.create).toBe('function');
    expect(typeof runtime.env.versions.common).toBe('string');
    const tensor = new runtime.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(tensor.type).toBe('float32');
    expect(tensor.dims).toEqual([2, 3]);
    expect(tensor.data).toBeInstanceOf(Float32Array);
    expect(typeof tensor.dispose).toBe('function');
    tensor.dispose();
  });
});
