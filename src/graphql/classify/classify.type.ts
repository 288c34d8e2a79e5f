import { Field, Float, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'The probability the K+1 classifier gives one class.' })
export class ClassProbability {
  @Field(() => String, { description: 'The class name, from the model\'s manifest (e.g. "7").' })
  class!: string;

  @Field(() => Float, { description: 'p(y = class | x): its entry of the K+1 softmax.' })
  probability!: number;
}

@ObjectType({ description: "What a semi-supervised K+1 model's classifier says about one image (Salimans et al. 2016, sec 5)." })
export class Classification {
  @Field(() => ID)
  modelId!: string;

  @Field(() => ID, { description: 'The CLASSIFY run of the request.' })
  runId!: string;

  @Field(() => Int, { description: 'Position of the image in the request.' })
  index!: number;

  @Field(() => String, { description: 'The most probable of the K classes.' })
  label!: string;

  @Field(() => Int, { description: 'Index of the label among the classes, 0..K-1.' })
  labelIndex!: number;

  @Field(() => Float, { description: 'p(y = label | x, y <= K): the probability of the label among the K real classes.' })
  confidence!: number;

  @Field(() => [ClassProbability], { description: 'The K class entries of the K+1 softmax, in class order; with generatedProbability they sum to 1.' })
  probabilities!: ClassProbability[];

  @Field(() => Float, { description: 'p(y = K+1 | x): the probability that the image was generated rather than real.' })
  generatedProbability!: number;
}
