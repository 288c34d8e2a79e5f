import { FieldResolver, Resolver, Root } from 'type-graphql';
import { Image } from './image.type';

@Resolver(() => Image)
export class ImageResolver {
  /** @param sampleImageUrl the URL GET /images serves a stored sample's PNG at (built by the server from its configuration). */
  constructor(private readonly sampleImageUrl: (sampleId: string) => string) {}

  @FieldResolver(() => String, {
    nullable: true,
    description:
      'A GET URL of the same PNG: "/images/<sampleId>.png", or absolute under GANQL_PUBLIC_URL when the server sets one. ' +
      'A sample never changes, so the response may be cached for good (ETag, Cache-Control immutable); it needs the "sample" scope, ' +
      'like the field that returned the image. Null for images that are not a stored sample (walk and arithmetic grids, ' +
      'nearest training images, training grids, feature-analysis images): use dataUrl for those.',
  })
  url(@Root() image: Image): string | null {
    return image.sampleId === undefined ? null : this.sampleImageUrl(image.sampleId);
  }
}
