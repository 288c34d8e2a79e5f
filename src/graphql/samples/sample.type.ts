import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Image } from '../common/image.type';

@ObjectType({ description: 'A generated image and the latent vector that regenerates it.' })
export class Sample {
  @Field(() => ID, { description: 'Pass to sample(id) to regenerate the same image.' })
  id!: string;

  @Field(() => ID)
  modelId!: string;

  @Field(() => ID, { description: 'The run that first produced this sample.' })
  runId!: string;

  @Field(() => Int, { description: 'Position within its run.' })
  index!: number;

  @Field(() => [Float], { description: 'The latent vector z (float32 values).' })
  latent!: number[];

  @Field(() => Image)
  image!: Image;

  @Field(() => String, {
    description:
      'The engine that made the sample: onnxruntime, onnxruntime-cuda, or the tfjs backend. Its bytes depend on the model version, the latent and this engine; sample(id) regenerates it on this engine.',
  })
  backend!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Set when this image was regenerated on another engine than `backend` because this server does not have that one (e.g. made on onnxruntime, served now with GANQL_BACKEND=wasm): the engine that made it now. Its PNG may then differ from the original in a few pixels. Null otherwise.',
  })
  regeneratedOn!: string | null;

  @Field(() => Date)
  createdAt!: Date;
}
