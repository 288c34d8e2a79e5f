// The providers a configuration may name (GANQL_ONNX_PROVIDERS) are the ones a session takes.
import type { OnnxProvider } from '../config/config';
import type { OnnxRuntime, OrtInferenceSession, OrtSessionOptions, OrtValueMetadata } from './onnx-runtime';

export type { OnnxProvider };

export interface OnnxSessionOptions {
  /** Threads one forward pass may use (ONNX Runtime's intra-op pool). At least 1. */
  threads: number;
  /** Execution providers in order of preference; a node the first cannot run goes to the next. @default ['cpu'] */
  providers?: readonly OnnxProvider[];
}

/**
 * One exported model on ONNX Runtime (the CPU provider unless asked otherwise): float32 [n, ...input] -> [n, ...output], one
 * input and one output, batch dimension free. Its weights live in ONNX Runtime's memory, not in tfjs's.
 */
export class OnnxSession {
  private constructor(
    private readonly runtime: OnnxRuntime,
    private readonly session: OrtInferenceSession,
    /** Values per item of the input and of the output. */
    readonly inputSize: number,
    readonly outputSize: number,
    private readonly inputShape: number[],
  ) {}

  /** Builds a session from an exported model's bytes (exportOnnx). */
  static async create(runtime: OnnxRuntime, model: Uint8Array, options: OnnxSessionOptions): Promise<OnnxSession> {
    if (!Number.isInteger(options.threads) || options.threads < 1)
      throw new Error(`OnnxSession: expected threads to be a positive integer, got ${options.threads}`);
    const session = await runtime.InferenceSession.create(model, onnxSessionOptions(options.threads, options.providers));
    try {
      const inputShape = itemShape(session.inputMetadata, 'input');
      const outputShape = itemShape(session.outputMetadata, 'output');
      return new OnnxSession(runtime, session, product(inputShape), product(outputShape), inputShape);
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  /** The model on `n` items row-major in `input`; returns the n outputs row-major, in an array of their own. */
  async run(input: Float32Array, n: number): Promise<Float32Array> {
    if (!Number.isInteger(n) || n < 1 || input.length !== n * this.inputSize) {
      throw new Error(`OnnxSession: expected ${n * this.inputSize} input values (${n} x ${this.inputShape.join('x')}), got ${input.length}`);
    }
    const feed = new this.runtime.Tensor('float32', input, [n, ...this.inputShape]);
    const results = await this.session.run({ [this.session.inputNames[0]]: feed });
    const output = results[this.session.outputNames[0]];
    if (output === undefined || output.type !== 'float32' || output.data.length !== n * this.outputSize) {
      throw new Error(
        `OnnxSession: expected ${n * this.outputSize} float32 output values, got ${output === undefined ? 'none' : `${output.data.length} ${output.type}`}`,
      );
    }
    // A copy in a buffer of its own: ONNX Runtime's may be native memory, which cannot move to another thread.
    const values = (output.data as Float32Array).slice();
    output.dispose();
    return values;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * The options of every session ganql makes: the providers (the CPU's by default), all graph
 * optimisations, `threads` intra-op threads, one op at a time. ONNX Runtime's own log says only what
 * is fatal: a provider that cannot load is an error ganql reports itself.
 */
export function onnxSessionOptions(threads: number, providers: readonly OnnxProvider[] = ['cpu']): OrtSessionOptions {
  return {
    executionProviders: [...providers],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 4,
  };
}

/** The shape after the batch axis of the single input or output; every dimension but the batch must be fixed. */
function itemShape(metadata: readonly OrtValueMetadata[], what: string): number[] {
  if (metadata.length !== 1) throw new Error(`OnnxSession: expected one ${what}, got ${metadata.length}`);
  const [value] = metadata;
  if (!value.isTensor) throw new Error(`OnnxSession: expected a tensor ${what}, got ${value.name}, which is not`);
  const dims = value.shape.slice(1);
  if (value.type !== 'float32' || !dims.every((d): d is number => typeof d === 'number' && d > 0)) {
    throw new Error(`OnnxSession: expected a float32 ${what} [batch, fixed sizes...], got ${value.type} [${value.shape.join(', ')}]`);
  }
  return dims;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
