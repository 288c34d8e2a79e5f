import { Args, Authorized, Query, Resolver } from 'type-graphql';
import { ClassifyService } from '../../classify/classify.service';
import { ClassifyArgs } from './classify.args';
import { Classification } from './classify.type';

@Resolver()
export class ClassifyResolver {
  constructor(private readonly classifyService: ClassifyService) {}

  @Authorized('sample')
  @Query(() => [Classification], {
    description:
      'Classifies images with a semi-supervised K+1 model: per image the K class probabilities, the probability it was generated, the label and its confidence. Runs through the shared inference pool; one CLASSIFY run. Bad images are BAD_USER_INPUT naming the image (e.g. images[2].png).',
  })
  async classify(@Args(() => ClassifyArgs) args: ClassifyArgs): Promise<Classification[]> {
    return this.classifyService.classify(args);
  }
}
