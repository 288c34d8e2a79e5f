import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Image } from '../common/image.type';

@ObjectType({ description: 'A layer an analysis can name: of a feature network (Model.featureLayers) or of the served generator (Model.generatorLayers).' })
export class LayerInfo {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The layer class, e.g. "Conv2D", "Dense", "LeakyReLU".' })
  className!: string;

  @Field(() => [Int], { description: 'Output shape without the batch axis: [units] or [height, width, channels].' })
  outputShape!: number[];

  @Field(() => Int, { description: "Its neurons: a dense layer's units, a conv layer's feature maps (channels)." })
  neurons!: number;
}

@ObjectType({ description: "An image of the dataset's held-out 'test' split with one neuron's activation for it." })
export class TestImage {
  @Field(() => Int, { description: "Position in the model's dataset's 'test' split (mnist: 1,000 digits, fixed)." })
  index!: number;

  @Field(() => String, { description: 'Its class.' })
  label!: string;

  @Field(() => Float, { description: "The neuron's activation: the unit's value, or the feature map's spatial maximum." })
  activation!: number;

  @Field(() => Image)
  image!: Image;
}

@ObjectType({ description: 'One neuron tested as a detector of the concept.' })
export class ProbedNeuron {
  @Field(() => Int, { description: 'Unit (dense layer) or feature map (conv layer) index.' })
  neuron!: number;

  @Field(() => Float, { description: 'Accuracy of "activation >= threshold means the concept" on the balanced probe set; chance is 0.5.' })
  accuracy!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'The best threshold: the smallest activation counted as the concept. Null when calling nothing the concept is best.',
  })
  threshold!: number | null;

  @Field(() => [TestImage], { description: 'The test images (of all classes) that activate the neuron most, highest first.' })
  topImages!: TestImage[];
}

@ObjectType({ description: "Le et al. 2012's single-neuron concept detectors in one layer of a model's feature network." })
export class NeuronProbe {
  @Field(() => ID, { description: 'The NEURON_PROBE run.' })
  runId!: string;

  @Field(() => ID)
  modelId!: string;

  @Field(() => LayerInfo)
  layer!: LayerInfo;

  @Field(() => String)
  concept!: string;

  @Field(() => Int, { description: 'Test images of the concept (all of them).' })
  positives!: number;

  @Field(() => Int, { description: 'Test images of other classes, drawn with the seed (as many as the positives).' })
  negatives!: number;

  @Field(() => [ProbedNeuron], { description: 'The best neurons, by accuracy (ties by index).' })
  neurons!: ProbedNeuron[];
}

@ObjectType({ description: "The input maximising one neuron of a model's feature network, found by gradient ascent under a norm constraint." })
export class OptimalStimulus {
  @Field(() => ID, { description: 'The OPTIMAL_STIMULUS run.' })
  runId!: string;

  @Field(() => ID)
  modelId!: string;

  @Field(() => LayerInfo)
  layer!: LayerInfo;

  @Field(() => Int)
  neuron!: number;

  @Field(() => Image, { description: "The stimulus, in the feature network's input range, as a PNG." })
  image!: Image;

  @Field(() => Float, { description: "The neuron's activation for the stimulus." })
  activation!: number;

  @Field(() => [Float], { description: 'The activation at the start and after each step (steps + 1 values).' })
  trace!: number[];

  @Field(() => Int)
  steps!: number;

  @Field(() => Float)
  stepSize!: number;

  @Field(() => Float, { description: 'The bound on ||x - c||_2 (c the mean held-out test image) the stimulus was held to.' })
  maxNorm!: number;

  @Field(() => Float, { description: "The stimulus's ||x - c||_2." })
  norm!: number;

  @Field(() => Float, { description: "The mean ||x - c||_2 of the held-out test images (maxNorm's default)." })
  meanTestNorm!: number;

  @Field(() => Float, { description: "The neuron's highest activation over every held-out test image." })
  maxTestActivation!: number;

  @Field(() => TestImage, { description: 'The test image with that activation.' })
  bestTestImage!: TestImage;

  @Field(() => Float, {
    nullable: true,
    description:
      "Set for a unit of a dense layer with a saturating activation (sigmoid, tanh): the stimulus's pre-activation (input . kernel + bias), which the ascent climbs. float32 rounds a sigmoid above about 16.6 to 1, so activations alone cannot tell a saturating stimulus from the best test images.",
  })
  preActivation?: number | null;

  @Field(() => Float, { nullable: true, description: 'With preActivation: the highest pre-activation over every held-out test image.' })
  maxTestPreActivation?: number | null;

  @Field(() => Boolean, {
    description:
      'Whether the stimulus activates the neuron more than every test image (for a saturating dense unit: a higher pre-activation than every test image, and an activation at least as high).',
  })
  exceedsEveryTestImage!: boolean;
}

@ObjectType({ description: 'Cross-validation accuracy of one regularisation strength.' })
export class CrossValidationScore {
  @Field(() => Float, { description: 'The SVM cost C (larger: weaker L2 regularisation).' })
  c!: number;

  @Field(() => Float, { description: 'Mean held-out fold accuracy on the labelled examples.' })
  accuracy!: number;
}

@ObjectType({ description: 'A linear classifier fitted on the labelled examples and scored on the test split.' })
export class ClassifierScore {
  @Field(() => Float, { description: "Accuracy on the dataset's held-out 'test' split." })
  accuracy!: number;

  @Field(() => Float, { description: 'Test error, 1 - accuracy.' })
  testError!: number;

  @Field(() => Float, { description: 'The C chosen by cross-validation.' })
  c!: number;

  @Field(() => [CrossValidationScore])
  crossValidation!: CrossValidationScore[];

  @Field(() => Int, { description: 'Length of a feature vector.' })
  features!: number;
}

@ObjectType({ description: "DCGAN's linear classifier on a feature network's max-pooled features, beside the same classifier on raw pixels." })
export class FeatureClassifier {
  @Field(() => ID, { description: 'The FEATURE_CLASSIFIER run.' })
  runId!: string;

  @Field(() => ID)
  modelId!: string;

  @Field(() => [LayerInfo])
  layers!: LayerInfo[];

  @Field(() => Int)
  labelsPerClass!: number;

  @Field(() => Int, { description: "Labelled examples the classifiers were fitted on (labelsPerClass per class, from the 'train' split)." })
  trainCount!: number;

  @Field(() => Int, { description: "Held-out 'test' images they were scored on." })
  testCount!: number;

  @Field(() => ClassifierScore, { description: "On the chosen layers' features." })
  features!: ClassifierScore;

  @Field(() => ClassifierScore, { description: 'The baseline: the same classifier and labels on the raw pixels.' })
  rawPixels!: ClassifierScore;
}

@ObjectType({ description: 'A generator feature map and its weight for the concept.' })
export class ConceptFilter {
  @Field(() => Int, { description: 'Channel index in the layer.' })
  filter!: number;

  @Field(() => Float, {
    description: 'Its weight in the concept-vs-rest linear classifier (standardised spatial means); positive: more of it, more of the concept.',
  })
  weight!: number;
}

@ObjectType({ description: "The scorer's view of the check samples, generated with or without the removal." })
export class ScorerReading {
  @Field(() => Float, { description: "Mean over all the check samples of the scorer's P(concept | image)." })
  meanProbability!: number;

  @Field(() => Float, { description: 'Fraction of the check samples whose most probable class is the concept.' })
  share!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      'Mean P(concept) over the check samples the scorer labels the concept when generated without removal (RemovalCheck.conceptSamples of them): the confidence the removal should lower. Null when there are none.',
  })
  conceptSampleProbability!: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'The control: mean P(own label) over the other check samples, each with its label without removal. A removal specific to the concept lowers this less. Null when there are none.',
  })
  otherSampleProbability!: number | null;
}

@ObjectType({ description: 'Samples of the check seed generated as they are, and with the found filters removed.' })
export class RemovalCheck {
  @Field(() => Int)
  seed!: number;

  @Field(() => Int)
  samples!: number;

  @Field(() => Int, { description: 'Check samples the scorer labels the concept when generated without removal.' })
  conceptSamples!: number;

  @Field(() => ScorerReading)
  before!: ScorerReading;

  @Field(() => ScorerReading, { description: 'With the returned filters zeroed, as samples(removeFilters: {layer, filters}) generates.' })
  after!: ScorerReading;
}

@ObjectType({ description: "The generator feature maps most associated with a concept (DCGAN's filter-removal experiment)." })
export class ConceptFilters {
  @Field(() => ID, { description: 'The CONCEPT_FILTERS run.' })
  runId!: string;

  @Field(() => ID)
  modelId!: string;

  @Field(() => LayerInfo)
  layer!: LayerInfo;

  @Field(() => String)
  concept!: string;

  @Field(() => String, { description: 'The scorer that labelled the samples (models/scorers).' })
  scorer!: string;

  @Field(() => [ConceptFilter], { description: 'Filters with the largest positive weights, largest first; pass their indices to samples(removeFilters).' })
  filters!: ConceptFilter[];

  @Field(() => Int, { description: 'How many filters had a positive weight in all.' })
  positiveFilters!: number;

  @Field(() => Float, { description: 'The SVM cost C chosen by cross-validation.' })
  c!: number;

  @Field(() => Int, { description: 'Samples the association was fitted on.' })
  samples!: number;

  @Field(() => Int, { description: 'Of those, the ones the scorer labelled the concept.' })
  conceptSamples!: number;

  @Field(() => RemovalCheck, { description: 'The removal checked on samples of another seed.' })
  check!: RemovalCheck;
}
