import { Authorized, Args, Query, Resolver } from 'type-graphql';
import { LatentService } from '../../latent/latent.service';
import { InterpolateArgs, LatentArithmeticArgs } from './latent.args';
import { toInterpolation, toLatentArithmetic } from './latent.mapper';
import { Interpolation, LatentArithmetic } from './latent.type';

@Resolver()
export class LatentResolver {
  constructor(private readonly latentService: LatentService) {}

  @Authorized('sample')
  @Query(() => Interpolation, { description: 'A walk from one latent to another (LINEAR or SLERP), through the shared pool; one run.' })
  async interpolate(@Args(() => InterpolateArgs) args: InterpolateArgs): Promise<Interpolation> {
    return toInterpolation(await this.latentService.interpolate(args));
  }

  @Authorized('sample')
  @Query(() => LatentArithmetic, {
    description: 'sum(coefficient x mean of exemplars), e.g. A - B + C, with noisy neighbours and concept means; one run.',
  })
  async latentArithmetic(@Args(() => LatentArithmeticArgs) args: LatentArithmeticArgs): Promise<LatentArithmetic> {
    return toLatentArithmetic(await this.latentService.latentArithmetic(args));
  }
}
