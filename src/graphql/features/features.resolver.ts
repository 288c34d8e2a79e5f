import { Args, Authorized, Query, Resolver } from 'type-graphql';
import { ConceptFilterService } from '../../features/concept-filter.service';
import { FeatureAnalysisService } from '../../features/feature-analysis.service';
import { ConceptFiltersArgs, FeatureClassifierArgs, NeuronProbeArgs, OptimalStimulusArgs } from './features.args';
import { toConceptFilters, toFeatureClassifier, toNeuronProbe, toOptimalStimulus } from './features.mapper';
import { ConceptFilters, FeatureClassifier, NeuronProbe, OptimalStimulus } from './features.type';

@Resolver()
export class FeaturesResolver {
  constructor(
    private readonly analysis: FeatureAnalysisService,
    private readonly conceptFilterService: ConceptFilterService,
  ) {}

  @Authorized('sample')
  @Query(() => NeuronProbe, {
    description:
      "Tests each neuron of a feature-network layer as a detector of a concept, with Le et al. 2012's protocol: positives = every held-out test image of the concept, negatives = as many test images of the other classes drawn with the seed (balanced: chance is 0.5); per neuron the threshold with the best accuracy of \"activation >= threshold means the concept\" on that set. A neuron of a conv layer is a feature map, its activation the map's spatial maximum. Returns the best neurons with their top-activating test images. Through the shared inference pool; one NEURON_PROBE run. An unknown layer, a concept outside the dataset's classes or a model without a feature network is BAD_USER_INPUT.",
  })
  async neuronProbe(@Args(() => NeuronProbeArgs) args: NeuronProbeArgs): Promise<NeuronProbe> {
    return toNeuronProbe(await this.analysis.neuronProbe(args));
  }

  @Authorized('sample')
  @Query(() => OptimalStimulus, {
    description:
      "The input that maximises one neuron (Le et al. 2012's optimal stimulus): projected gradient ascent with normalised steps from a small seeded random image, each step followed by clipping pixels to the feature network's input range and shrinking x - c onto the ball ||x - c||_2 <= maxNorm (c the mean held-out test image; Le et al. used ||x||_2 = 1 on zero-mean, normalised inputs). maxNorm defaults to the mean of the same norm over the held-out test images, and the result compares the stimulus with every test image. A dense unit with a saturating activation (sigmoid, tanh) is climbed on its pre-activation, which has the same maximisers but no gradient that vanishes when float32 rounds the activation to its bound. Runs on the shared pool's executor; one OPTIMAL_STIMULUS run.",
  })
  async optimalStimulus(@Args(() => OptimalStimulusArgs) args: OptimalStimulusArgs): Promise<OptimalStimulus> {
    return toOptimalStimulus(await this.analysis.optimalStimulus(args));
  }

  @Authorized('sample')
  @Query(() => FeatureClassifier, {
    description:
      "DCGAN's feature evaluation (Radford et al. 2015, sec 5.1): each chosen layer's output max-pooled to a 4x4 spatial grid per feature map (adaptive cells; the whole-map maximum for maps smaller than 4x4; dense layers as they are), concatenated, and a linear classifier fitted on labelsPerClass labelled 'train' images per class (seeded choice): one-vs-rest L2-SVMs (squared hinge, L2-regularised, features standardised with the labelled set's statistics, the cost C chosen among 0.001, 0.01, 0.1, 1, 10 by stratified 5-fold cross-validation), scored on the held-out 'test' split. rawPixels is the same classifier on the same labelled images' pixels. Features through the shared pool, the fit on a worker thread; one FEATURE_CLASSIFIER run.",
  })
  async featureClassifier(@Args(() => FeatureClassifierArgs) args: FeatureClassifierArgs): Promise<FeatureClassifier> {
    return toFeatureClassifier(await this.analysis.featureClassifier(args));
  }

  @Authorized('sample')
  @Query(() => ConceptFilters, {
    description:
      "The generator feature maps most associated with a concept (DCGAN's filter removal, Radford et al. 2015, sec 6.3.1, with a scorer in place of hand-drawn boxes): seeded samples are labelled by the dataset's scorer (concept = its most probable class), each sample's feature maps of the generator layer are averaged over space, and a concept-vs-rest L2-SVM (standardised inputs, C by cross-validation) weighs them; the filters with the largest positive weights are returned. The removal is then checked on samples of another seed, generated as they are and with those filters zeroed: the scorer's mean P(concept) over all of them and over those it labels the concept, with, as a control, the other samples' confidence in their own labels. Through the shared pool; one CONCEPT_FILTERS run.",
  })
  async conceptFilters(@Args(() => ConceptFiltersArgs) args: ConceptFiltersArgs): Promise<ConceptFilters> {
    return toConceptFilters(await this.conceptFilterService.conceptFilters(args));
  }
}
