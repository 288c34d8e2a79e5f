import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'An image as a PNG: inline as a data URL, and as a cacheable GET URL when it is a stored sample.' })
export class Image {
  @Field(() => String, { description: 'Always "image/png".' })
  mimeType!: string;

  @Field(() => Int)
  width!: number;

  @Field(() => Int)
  height!: number;

  @Field(() => Int, { description: '1 for grayscale, 3 for RGB.' })
  channels!: number;

  @Field(() => String, { description: 'data:image/png;base64,... usable directly as an <img> src.' })
  dataUrl!: string;

  /** The stored sample this image is, which gives it a URL (ImageResolver.url); unset for images without a sample record. */
  sampleId?: string;
}
