import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Limits of the shared inference pool (as in Triton dynamic batching).' })
export class PoolInfo {
  @Field(() => String, { description: 'Where forward passes run.' })
  executor!: string;

  @Field(() => Int)
  maxBatchSize!: number;

  @Field(() => Int)
  maxQueueDelayMs!: number;

  @Field(() => Int)
  maxQueueSize!: number;

  @Field(() => Int)
  requestTimeoutMs!: number;

  @Field(() => Int, { description: 'Items waiting or running now.' })
  queued!: number;

  @Field(() => Int, { description: 'Forward passes run since start.' })
  batches!: number;

  @Field(() => Int, { description: 'Images generated since start.' })
  items!: number;

  @Field(() => Int, { description: 'Largest batch run since start.' })
  largestBatch!: number;

  @Field(() => Int, { description: 'Live tensors on the inference backend(s), summed over workers: flat over requests means no leak.' })
  tensors!: number;
}

@ObjectType({ description: 'What this ganql process runs on.' })
export class ServerInfo {
  @Field(() => String)
  version!: string;

  @Field(() => String, {
    description:
      'How this process runs ganql: compiled (JavaScript built to dist/, as npm start runs it) or sources (TypeScript through tsx or a test runner).',
  })
  runtime!: string;

  @Field(() => String, {
    description:
      'What computes: the tfjs backend chosen at start-up (tensorflow-gpu, tensorflow, wasm or cpu), as onnxruntime+<backend> when ONNX Runtime serves generate and classify beside it.',
  })
  backend!: string;

  @Field(() => [String], { description: "ganql's own kernels registered for the tfjs backend." })
  customKernels!: string[];

  @Field(() => String, { description: 'sqlite or postgresql.' })
  database!: string;

  @Field(() => Int, { description: 'Most images one request may ask for.' })
  maxSamplesPerRequest!: number;

  @Field(() => PoolInfo)
  pool!: PoolInfo;
}
