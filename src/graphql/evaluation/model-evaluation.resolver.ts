import { Authorized, FieldResolver, Resolver, Root } from 'type-graphql';
import { EvaluationService } from '../../evaluation/evaluation.service';
import { Model } from '../models/model.type';
import { toEvaluation } from './evaluation.mapper';
import { Evaluation } from './evaluation.type';

/** Model's evaluation field (here, since the evaluation types already depend on the model types). */
@Resolver(() => Model)
export class ModelEvaluationResolver {
  constructor(private readonly evaluationService: EvaluationService) {}

  @Authorized('read')
  @FieldResolver(() => Evaluation, { nullable: true, description: 'Its newest stored evaluation (evaluate), for its model card; null when it has none.' })
  async latestEvaluation(@Root() model: Model): Promise<Evaluation | null> {
    const [latest] = await this.evaluationService.evaluations(model.id, 1);
    return latest === undefined ? null : toEvaluation(latest);
  }
}
