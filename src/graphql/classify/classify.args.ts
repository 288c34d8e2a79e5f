import { ArgsType, Field, Float, ID, InputType } from 'type-graphql';
import { DEFAULT_MAX_SAMPLES } from '../../config/config';

@InputType({
  description:
    "One image to classify: exactly one of png or pixels, of the model's image size (height x width x channels, see Model.imageShape; 28x28x1 for the shipped MNIST models).",
})
export class ImageInput {
  @Field(() => String, {
    nullable: true,
    description:
      'Base64 of a PNG file (standard alphabet, padded), or the same as a data URL "data:image/png;base64,...". Any bit depth; colour PNGs are accepted for a grayscale model only when their three channels are equal everywhere, and alpha only when every pixel is opaque. At most the base64 length of the image stored uncompressed plus 64 KiB.',
  })
  png?: string;

  @Field(() => [Float], {
    nullable: true,
    description:
      "The model's height*width*channels pixel values (784 for 28x28x1), row-major (row by row, channels last), each in 0..255 as in a PNG (0 black, 255 white).",
  })
  pixels?: number[];
}

@ArgsType()
export class ClassifyArgs {
  @Field(() => ID, { description: 'A semi-supervised K+1 model version (one whose manifest has a classifier), by id or alias.' })
  modelId!: string;

  @Field(() => [ImageInput], { description: `1..GANQL_MAX_SAMPLES images (default limit ${DEFAULT_MAX_SAMPLES}), classified in the shared pool's batches.` })
  images!: ImageInput[];
}
