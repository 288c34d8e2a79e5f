import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import type { EvaluationMetric } from '../../evaluation/compute-metrics';
import { Image } from '../common/image.type';
import { ImageShape } from '../models/model.type';
import { Sample } from '../samples/sample.type';
import { EvaluationMetricEnum } from './evaluation.args';

@ObjectType({ description: 'Inception Score over splits (Salimans et al. 2016).' })
export class InceptionScoreResult {
  @Field(() => Float, { description: 'Mean of the split scores.' })
  mean!: number;

  @Field(() => Float, { description: 'Population standard deviation (np.std) of the split scores.' })
  std!: number;

  @Field(() => [Float], { description: 'exp(mean KL(p(y|x) || p(y))) of each split, in order.' })
  splitScores!: number[];
}

@ObjectType({ description: 'Kernel Inception Distance over subsets (Binkowski et al. 2018).' })
export class KidResult {
  @Field(() => Float, { description: 'Mean of the per-subset unbiased MMD^2 estimates.' })
  mean!: number;

  @Field(() => Float, { description: 'Population standard deviation of those estimates.' })
  std!: number;

  @Field(() => Int, { description: 'Rows drawn from each set per subset.' })
  subsetSize!: number;

  @Field(() => Int)
  subsets!: number;
}

@ObjectType({ description: 'Parzen-window log-likelihood (Goodfellow et al. 2014), pixels in [0, 1].' })
export class ParzenResult {
  @Field(() => Float, { description: 'Mean log-likelihood of the test images, nats per image.' })
  mean!: number;

  @Field(() => Float, { description: 'Standard error of that mean (std / sqrt(test images)).' })
  stdErr!: number;

  @Field(() => Float, { description: 'Window width chosen on the validation images.' })
  sigma!: number;

  @Field(() => Int, { description: 'Generated samples the windows sit on.' })
  samples!: number;

  @Field(() => Int)
  validationImages!: number;

  @Field(() => Int)
  testImages!: number;
}

@ObjectType({ description: 'The stored results of one evaluate run; a metric that was not requested is null.' })
export class Evaluation {
  @Field(() => ID, { description: 'The EVALUATE run that computed it.' })
  runId!: string;

  @Field(() => ID)
  modelId!: string;

  @Field(() => String, { description: 'The scorer whose probabilities and features the metrics use.' })
  scorer!: string;

  @Field(() => String, { description: "The model's dataset: its training split is the FID/KID reference, its test split Parzen's." })
  dataset!: string;

  @Field(() => Int)
  samples!: number;

  @Field(() => Int)
  seed!: number;

  @Field(() => Int)
  splits!: number;

  @Field(() => [EvaluationMetricEnum])
  metrics!: EvaluationMetric[];

  @Field(() => InceptionScoreResult, { nullable: true })
  inceptionScore!: InceptionScoreResult | null;

  @Field(() => Float, { nullable: true, description: 'Frechet distance to the training split (scorer features).' })
  fid!: number | null;

  @Field(() => KidResult, { nullable: true })
  kid!: KidResult | null;

  @Field(() => ParzenResult, { nullable: true })
  parzen!: ParzenResult | null;

  @Field(() => Int, { nullable: true, description: 'Training images behind the FID/KID reference statistics.' })
  referenceImages!: number | null;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType({ description: 'A classifier that scores generated images: class probabilities for IS, penultimate features for FID and KID.' })
export class Scorer {
  @Field(() => String, { description: 'Pass as evaluate(scorer: ...).' })
  name!: string;

  @Field(() => String, { description: 'What it was trained on, e.g. "mnist".' })
  dataset!: string;

  @Field(() => Int, { description: 'Number of classes K: the largest Inception Score possible.' })
  classes!: number;

  @Field(() => [String], { nullable: true })
  classNames!: string[] | null;

  @Field(() => ImageShape, { description: 'Input size; other images are resized bilinearly, grayscale tiled to RGB.' })
  inputShape!: ImageShape;

  @Field(() => Float, { description: 'Accuracy on its held-out test split, 0..1.' })
  testAccuracy!: number;

  @Field(() => Int)
  testExamples!: number;

  @Field(() => String, { description: 'The exact command that trained it.' })
  trainingCommand!: string;
}

@ObjectType({ description: 'A sample beside its nearest training image by pixel L2 distance (Goodfellow et al. 2014, figure 2).' })
export class NearestNeighbour {
  @Field(() => Sample, { description: 'The sample, regenerated from its latent.' })
  sample!: Sample;

  @Field(() => Image, { description: 'The nearest image of the training split.' })
  neighbour!: Image;

  @Field(() => String)
  dataset!: string;

  @Field(() => String, { description: 'Always "train": the images the model learned from.' })
  split!: string;

  @Field(() => Int, { description: 'Row of the neighbour in the split.' })
  trainingIndex!: number;

  @Field(() => Int, { description: "The neighbour's class label." })
  label!: number;

  @Field(() => Float, { description: 'Euclidean distance with pixels in [0, 1]; 0 for a copy of the training image.' })
  distance!: number;
}
