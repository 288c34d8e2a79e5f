import { ArgsType, Field, Float, ID, Int } from 'type-graphql';
import { FEATURE_LIMITS } from '../../features/feature.limits';
import { MAX_SEED } from '../../validation/seed';

const { neuronProbe, optimalStimulus, featureClassifier, conceptFilters } = FEATURE_LIMITS;
const range = (r: { min: number; max: number }): string => `${r.min}..${r.max}`;

@ArgsType()
export class NeuronProbeArgs {
  @Field(() => ID, { description: 'A model (id or alias) with a feature network: its discriminator (a GAN), or the encoder of an autoencoder.' })
  modelId!: string;

  @Field(() => String, { description: 'A layer of Model.featureLayers.' })
  layer!: string;

  @Field(() => String, { description: 'A class of the model\'s dataset (mnist: "0".."9").' })
  concept!: string;

  @Field(() => Int, {
    nullable: true,
    description: `How many of the best neurons to return, ${range(neuronProbe.neurons)}. Default ${neuronProbe.neurons.default}.`,
  })
  neurons?: number;

  @Field(() => Int, {
    nullable: true,
    description: `Top-activating test images per neuron, ${range(neuronProbe.topImages)}. Default ${neuronProbe.topImages.default}.`,
  })
  topImages?: number;

  @Field(() => Int, { nullable: true, description: `Seed of the draw of negatives, 0..${MAX_SEED}. Default 0.` })
  seed?: number;
}

@ArgsType()
export class OptimalStimulusArgs {
  @Field(() => ID, { description: 'A model (id or alias) with a feature network.' })
  modelId!: string;

  @Field(() => String, { description: 'A layer of Model.featureLayers.' })
  layer!: string;

  @Field(() => Int, { description: "The neuron: 0..(the layer's neurons - 1)." })
  neuron!: number;

  @Field(() => Int, { nullable: true, description: `Gradient-ascent steps, ${range(optimalStimulus.steps)}. Default ${optimalStimulus.steps.default}.` })
  steps?: number;

  @Field(() => Float, {
    nullable: true,
    description: `L2 length of each step (the gradient is normalised), in (0, maxNorm]. Default maxNorm / ${optimalStimulus.stepsPerMaxNorm}.`,
  })
  stepSize?: number;

  @Field(() => Float, {
    nullable: true,
    description:
      'Bound on ||x - c||_2, c the mean held-out test image (Le et al. bounded the norm of zero-mean inputs). Default: the mean of that norm over the held-out test images.',
  })
  maxNorm?: number;

  @Field(() => Int, { nullable: true, description: `Seed of the small random start, 0..${MAX_SEED}. Default 0.` })
  seed?: number;
}

@ArgsType()
export class FeatureClassifierArgs {
  @Field(() => ID, { description: 'A model (id or alias) with a feature network.' })
  modelId!: string;

  @Field(() => [String], { description: `${range(featureClassifier.layers)} distinct layers of Model.featureLayers, concatenated in this order.` })
  layers!: string[];

  @Field(() => Int, { description: `Labelled 'train' images per class the classifier is fitted on, ${range(featureClassifier.labelsPerClass)}.` })
  labelsPerClass!: number;

  @Field(() => Int, { nullable: true, description: `Seed of the choice of labelled images and of the cross-validation folds, 0..${MAX_SEED}. Default 0.` })
  seed?: number;
}

@ArgsType()
export class ConceptFiltersArgs {
  @Field(() => ID, { description: 'A model version, by id or alias.' })
  modelId!: string;

  @Field(() => String, { description: 'A layer of Model.generatorLayers (e.g. the DCGAN\'s "g_reshape": its 64 feature maps at 7x7).' })
  layer!: string;

  @Field(() => String, { description: 'A class of the model\'s dataset (mnist: "0".."9").' })
  concept!: string;

  @Field(() => Int, {
    nullable: true,
    description: `Most filters to return (and remove in the check), ${conceptFilters.count.min}..(the layer's filters). Default ${conceptFilters.count.default}, or all filters of a smaller layer.`,
  })
  count?: number;

  @Field(() => Int, {
    nullable: true,
    description: `Generated samples the association is fitted on, ${range(conceptFilters.samples)}. Default ${conceptFilters.samples.default}.`,
  })
  samples?: number;

  @Field(() => Int, { nullable: true, description: `Seed of those samples, 0..${MAX_SEED}. Default 0.` })
  seed?: number;

  @Field(() => Int, {
    nullable: true,
    description: `Samples of the removal check, ${range(conceptFilters.checkSamples)}. Default ${conceptFilters.checkSamples.default}.`,
  })
  checkSamples?: number;

  @Field(() => Int, { nullable: true, description: 'Seed of the check samples; must differ from seed. Default seed + 1.' })
  checkSeed?: number;

  @Field(() => String, { nullable: true, description: "A scorer of the model's dataset (models/scorers); the first that fits when omitted." })
  scorer?: string;
}
