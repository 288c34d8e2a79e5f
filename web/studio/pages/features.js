// @ts-check
// Features: what a model's networks learned. Grandmother neurons (neuronProbe) and their optimal stimulus
// (optimalStimulus), a linear classifier on the learned features (featureClassifier), and DCGAN's filter
// removal on the generator (conceptFilters, then samples with and without removeFilters).
import { gql, onApiKeyChange } from '../lib/api.js';
import { linePlot } from '../lib/plot.js';
import { busy, clearError, el, field, imageFromDataUrl, imageFromUrl, pageHeader, progress, showError } from '../lib/ui.js';
/** @import { Image, Layer, ModelInfo, SampleImage } from '../lib/types.js' */

const MODELS = `query StudioFeatureModels {
  models {
    id name version architecture dataset featureNetworkRole
    featureLayers { name className outputShape neurons }
    generatorLayers { name className outputShape neurons }
  }
  scorers { name dataset classes classNames }
}`;
/** @typedef {{ name: string, dataset: string, classes: number, classNames: string[] | null }} Scorer */
/** @typedef {{ index: number, label: string, activation: number, image: Image }} TestImage */

const PROBE = `query StudioNeuronProbe($modelId: ID!, $layer: String!, $concept: String!, $neurons: Int) {
  neuronProbe(modelId: $modelId, layer: $layer, concept: $concept, neurons: $neurons, topImages: 8) {
    runId concept positives negatives
    layer { name className outputShape neurons }
    neurons { neuron accuracy threshold topImages { index label activation image { dataUrl width height } } }
  }
}`;
/**
 * @typedef {{
 *   runId: string, concept: string, positives: number, negatives: number, layer: Layer,
 *   neurons: Array<{ neuron: number, accuracy: number, threshold: number | null, topImages: TestImage[] }>,
 * }} Probe
 */

const STIMULUS = `query StudioOptimalStimulus($modelId: ID!, $layer: String!, $neuron: Int!, $steps: Int, $maxNorm: Float) {
  optimalStimulus(modelId: $modelId, layer: $layer, neuron: $neuron, steps: $steps, maxNorm: $maxNorm) {
    runId neuron steps stepSize maxNorm meanTestNorm norm
    activation maxTestActivation preActivation maxTestPreActivation exceedsEveryTestImage trace
    image { dataUrl width height }
    bestTestImage { index label activation image { dataUrl width height } }
    layer { name className }
  }
}`;
/**
 * @typedef {{
 *   runId: string, neuron: number, steps: number, stepSize: number, maxNorm: number, meanTestNorm: number, norm: number,
 *   activation: number, maxTestActivation: number, preActivation: number | null, maxTestPreActivation: number | null,
 *   exceedsEveryTestImage: boolean, trace: number[], image: Image, bestTestImage: TestImage, layer: { name: string, className: string },
 * }} Stimulus
 */

const CLASSIFIER = `query StudioFeatureClassifier($modelId: ID!, $layers: [String!]!, $labelsPerClass: Int!, $seed: Int) {
  featureClassifier(modelId: $modelId, layers: $layers, labelsPerClass: $labelsPerClass, seed: $seed) {
    runId labelsPerClass trainCount testCount
    layers { name }
    features { accuracy testError c features }
    rawPixels { accuracy testError c features }
  }
}`;
/** @typedef {{ accuracy: number, testError: number, c: number, features: number }} ClassifierScore */
/**
 * @typedef {{
 *   runId: string, labelsPerClass: number, trainCount: number, testCount: number, layers: Array<{ name: string }>,
 *   features: ClassifierScore, rawPixels: ClassifierScore,
 * }} Classifier
 */

const FILTERS = `query StudioConceptFilters($modelId: ID!, $layer: String!, $concept: String!, $count: Int, $samples: Int, $checkSamples: Int, $seed: Int) {
  conceptFilters(modelId: $modelId, layer: $layer, concept: $concept, count: $count, samples: $samples, checkSamples: $checkSamples, seed: $seed) {
    runId concept c samples scorer conceptSamples positiveFilters
    layer { name className outputShape neurons }
    filters { filter weight }
    check {
      seed samples conceptSamples
      before { meanProbability share conceptSampleProbability otherSampleProbability }
      after { meanProbability share conceptSampleProbability otherSampleProbability }
    }
  }
}`;
/** @typedef {{ meanProbability: number, share: number, conceptSampleProbability: number | null, otherSampleProbability: number | null }} ScorerCheck */
/**
 * @typedef {{
 *   runId: string, concept: string, c: number, samples: number, scorer: string, conceptSamples: number, positiveFilters: number,
 *   layer: Layer, filters: Array<{ filter: number, weight: number }>,
 *   check: { seed: number, samples: number, conceptSamples: number, before: ScorerCheck, after: ScorerCheck },
 * }} ConceptFilters
 */

const SAMPLES = `query StudioFilterSamples($modelId: ID, $count: Int, $seed: Int, $removeFilters: FilterRemovalInput) {
  samples(modelId: $modelId, count: $count, seed: $seed, removeFilters: $removeFilters) { id index image { url width height } }
}`;
/** @typedef {{ id: string, index: number, image: SampleImage }} FilterSample */

/** The dataset's classes when no scorer names them (mnist's scorer has only a class count). */
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

// What the page had, so coming back from another page keeps the model and the inputs.
/** @type {{ modelId: string | undefined, inputs: Record<string, string> }} */
const remembered = { modelId: undefined, inputs: {} };

/**
 * '' -> undefined (the server's default); anything else a number for the server to judge.
 * @param {HTMLInputElement} input
 */
function optionalNumber(input) {
  const text = input.value.trim();
  return text === '' ? undefined : Number(text);
}

/**
 * A required whole number, or an Error in words naming the field.
 * @param {HTMLInputElement} input
 * @param {string} what
 */
function requiredNumber(input, what) {
  const text = input.value.trim();
  if (text === '' || !Number.isFinite(Number(text))) throw new Error(`${what}: enter a number, got ${text === '' ? 'nothing' : JSON.stringify(text)}`);
  return Number(text);
}

const percent = (/** @type {number} */ v) => `${(100 * v).toFixed(1)}%`;
/** Activations: 7 significant digits, so a saturated 1.000000 and the best test image's 0.9999876 differ. */
const precise = (/** @type {number | null | undefined} */ v) => (v === null || v === undefined ? '-' : Number(v).toPrecision(7));
const shape = (/** @type {number[]} */ s) => `[${s.join(', ')}]`;
const isConvMaps = (/** @type {{ outputShape: number[] }} */ layer) => layer.outputShape.length === 3;

/**
 * "enc_hidden1 (Dense [256], 256 units)" / "d_down2 (Conv2D [7, 7, 64], 64 feature maps)".
 * @param {Layer} layer
 */
function layerLabel(layer) {
  const neurons = isConvMaps(layer)
    ? `${layer.neurons} feature map${layer.neurons === 1 ? '' : 's'}`
    : `${layer.neurons} unit${layer.neurons === 1 ? '' : 's'}`;
  return `${layer.name} (${layer.className} ${shape(layer.outputShape)}, ${neurons})`;
}

/**
 * "unit 161" of a dense layer, "feature map 12" of a conv layer.
 * @param {{ outputShape: number[] }} layer
 * @param {number} neuron
 */
function neuronName(layer, neuron) {
  return isConvMaps(layer) ? `feature map ${neuron}` : `unit ${neuron}`;
}

/** @type {Readonly<Record<string, string>>} */
const ROLE_WORDS = {
  encoder: 'the encoder of an autoencoder, trained on images without labels',
  discriminator: 'the discriminator of a GAN',
};

/**
 * An aborted request: the page moved on, so nothing is shown for it.
 * @param {unknown} error
 */
function isAbort(error) {
  return typeof error === 'object' && error !== null && 'name' in error && error.name === 'AbortError';
}

/** @param {HTMLElement} root */
export function mount(root) {
  /** @type {Array<() => void>} */
  const cleanups = [];
  /** @type {ModelInfo[]} models with a feature network */
  let models = [];
  /** @type {Scorer[]} */
  let scorers = [];
  /** @type {Set<AbortController>} */
  const aborts = new Set();

  /**
   * Runs `work(signal)`; unmounting aborts it, and an aborted run neither renders nor reports.
   * @template T
   * @param {(signal: AbortSignal) => Promise<T>} work
   * @returns {Promise<T>}
   */
  async function guarded(work) {
    const abort = new AbortController();
    aborts.add(abort);
    try {
      return await work(abort.signal);
    } finally {
      aborts.delete(abort);
    }
  }
  cleanups.push(() => {
    for (const abort of aborts) abort.abort();
  });

  /**
   * @param {string} name
   * @param {Record<string, string>} [props]
   */
  const input = (name, props = {}) =>
    el('input', {
      name,
      id: `feat-${name}`,
      type: 'number',
      inputmode: 'numeric',
      step: '1',
      ...props,
      value: remembered.inputs[name] ?? props.value ?? '',
      onChange: (/** @type {Event} */ e) => (remembered.inputs[name] = /** @type {HTMLInputElement} */ (e.target).value),
    });

  // Model.
  const modelSelect = el('select', { name: 'modelId', id: 'feat-model' }, el('option', { value: '' }, 'Loading...'));
  const modelNote = el('p', { class: 'muted', id: 'feat-model-note' });
  const modelPanel = el(
    'section',
    { class: 'panel feat-model', id: 'feat-model-panel', 'aria-label': 'Model' },
    el('div', { class: 'row' }, field('Model version (with a feature network)', modelSelect), modelNote),
  );

  // Grandmother neurons.
  const layerSelect = el('select', { name: 'layer', id: 'probe-layer' });
  const conceptSelect = el('select', { name: 'concept', id: 'probe-concept' });
  const neuronsInput = input('neurons', { value: '5', min: '1', max: '64' });
  const stepsInput = input('steps', { value: '200', min: '1', max: '2000' });
  const maxNormInput = input('maxNorm', { step: 'any', inputmode: 'decimal', placeholder: 'default', min: '0' });
  const probeButton = el('button', { type: 'submit', id: 'probe-button' }, 'Find neurons');
  const probeForm = el(
    'form',
    { class: 'feat-form', novalidate: true, 'aria-label': 'Find grandmother neurons' },
    el(
      'div',
      { class: 'row' },
      field('Layer', layerSelect),
      field('Concept', conceptSelect),
      field('Neurons to show', neuronsInput, '1..64, the best first'),
      field('Stimulus steps', stepsInput, 'gradient ascent, 1..2000'),
      field('Stimulus norm bound', maxNormInput, 'blank: the test images\u2019 mean'),
      probeButton,
    ),
  );
  const probeResult = el('div', { id: 'probe-result', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Pick a layer and a concept, then Find neurons.'));
  const stimulusBox = el(
    'section',
    { class: 'feat-stimulus', id: 'stimulus', 'aria-labelledby': 'stimulus-heading', 'aria-live': 'polite' },
    el('h3', { id: 'stimulus-heading' }, 'Optimal stimulus'),
    el('p', { class: 'muted' }, 'Choose "Optimal stimulus" on a neuron: the image, within a norm bound, that excites it most.'),
  );
  const neuronsPanel = el(
    'section',
    { class: 'panel', id: 'neurons-panel', 'aria-labelledby': 'neurons-heading' },
    el('h2', { id: 'neurons-heading' }, 'Grandmother neurons'),
    el(
      'p',
      { class: 'muted feat-protocol', id: 'probe-protocol' },
      'Le et al.\u2019s protocol: every test image of the concept (positives) against as many test images of other classes (negatives), so chance is 50%; each neuron\u2019s accuracy is that of \u201cactivation \u2265 threshold means the concept\u201d at its best threshold.',
    ),
    probeForm,
    el('div', { class: 'feat-neurons' }, probeResult, stimulusBox),
  );

  // Linear classifier.
  const layersBox = el('fieldset', { class: 'feat-layers', id: 'classifier-layers' }, el('legend', {}, 'Layers (features concatenated)'));
  const labelsInput = input('labelsPerClass', { value: '10', min: '2', max: '100', id: 'classifier-labels' });
  const classifierSeed = input('classifierSeed', { value: '0', min: '0', id: 'classifier-seed' });
  const classifierButton = el('button', { type: 'submit', id: 'classifier-button' }, 'Fit classifier');
  const classifierForm = el(
    'form',
    { class: 'feat-form', novalidate: true, 'aria-label': 'Fit a linear classifier on the features' },
    layersBox,
    el(
      'div',
      { class: 'row' },
      field('Labels per class', labelsInput, '2..100 labelled training images of each class'),
      field('Seed', classifierSeed, 'which images are labelled'),
      classifierButton,
    ),
  );
  const classifierResult = el('div', { id: 'classifier-result', 'aria-live': 'polite' });
  const classifierPanel = el(
    'section',
    { class: 'panel', id: 'classifier-panel', 'aria-labelledby': 'classifier-heading' },
    el('h2', { id: 'classifier-heading' }, 'Linear classifier'),
    el(
      'p',
      { class: 'muted' },
      'DCGAN\u2019s test of learned features: each layer max-pooled to 4\u00d74 per feature map, one-vs-rest linear SVMs fitted on a few labelled training images (C by cross-validation), scored on the held-out test images, against the same classifier on raw pixels.',
    ),
    classifierForm,
    classifierResult,
  );

  // Filter removal.
  const filterLayerSelect = el('select', { name: 'filterLayer', id: 'filter-layer' });
  const filterConceptSelect = el('select', { name: 'filterConcept', id: 'filter-concept' });
  const countInput = input('count', { value: '10', min: '1', id: 'filter-count' });
  const samplesInput = input('samples', { value: '500', min: '50', max: '2000', id: 'filter-samples' });
  const checkInput = input('checkSamples', { value: '200', min: '10', max: '1000', id: 'filter-check' });
  const filterSeed = input('filterSeed', { value: '0', min: '0', id: 'filter-seed' });
  const showInput = input('show', { value: '12', min: '1', max: '64', id: 'filter-show' });
  const filterButton = el('button', { type: 'submit', id: 'filter-button' }, 'Find and remove filters');
  const filterForm = el(
    'form',
    { class: 'feat-form', novalidate: true, 'aria-label': 'Find the generator filters of a concept' },
    el(
      'div',
      { class: 'row' },
      field('Generator layer', filterLayerSelect),
      field('Concept', filterConceptSelect),
      field('Filters', countInput, 'how many to remove'),
      field('Samples', samplesInput, 'fitted on, 50..2000'),
      field('Check samples', checkInput, '10..1000, seed + 1'),
      field('Seed', filterSeed),
      field('Show', showInput, 'samples side by side'),
      filterButton,
    ),
  );
  const filterNote = el('p', { class: 'muted', id: 'filter-note' });
  const filterResult = el('div', { id: 'filter-result', 'aria-live': 'polite' });
  const filterPanel = el(
    'section',
    { class: 'panel', id: 'filter-panel', 'aria-labelledby': 'filter-heading' },
    el('h2', { id: 'filter-heading' }, 'Filter removal'),
    el(
      'p',
      { class: 'muted' },
      'DCGAN\u2019s \u201cforgetting to draw\u201d: generated samples are labelled by the dataset\u2019s scorer, a linear SVM finds the generator feature maps that go with the concept, and those maps are zeroed while generating another seed\u2019s samples.',
    ),
    filterNote,
    filterForm,
    filterResult,
  );

  root.append(
    el(
      'section',
      { class: 'page', id: 'features-page' },
      pageHeader(
        'Features',
        'What a model\u2019s networks learned: single neurons that detect a concept and the image each likes best (Le et al. 2012), a linear classifier on the features, and the generator filters that draw a concept (Radford et al. 2015).',
      ),
      modelPanel,
      neuronsPanel,
      el('div', { class: 'feat-pair' }, classifierPanel, filterPanel),
    ),
  );

  const currentModel = () => models.find((m) => m.id === modelSelect.value);

  /**
   * The model's dataset classes: its scorer's names, or 0..K-1; mnist's digits when no scorer says.
   * @param {ModelInfo} model
   * @returns {string[]}
   */
  function classesOf(model) {
    const scorer = scorers.find((s) => s.dataset === model.dataset);
    if (scorer?.classNames) return scorer.classNames;
    if (scorer) return Array.from({ length: scorer.classes }, (_, i) => String(i));
    return model.dataset === 'mnist' ? DIGITS : [];
  }

  /**
   * @param {HTMLSelectElement} select
   * @param {string[]} classes
   * @param {string} key
   */
  function conceptOptions(select, classes, key) {
    const wanted = remembered.inputs[key] ?? select.value;
    select.replaceChildren(...classes.map((c) => el('option', { value: c, selected: c === wanted }, c)));
  }

  /** Fills every control that depends on the model; clears results of another model. */
  function showModel() {
    const model = currentModel();
    remembered.modelId = model?.id;
    for (const box of [probeResult, classifierResult, filterResult]) box.replaceChildren();
    probeResult.append(el('p', { class: 'muted' }, 'Pick a layer and a concept, then Find neurons.'));
    resetStimulus();
    for (const form of [probeForm, classifierForm, filterForm]) clearError(form);
    if (!model) {
      modelNote.textContent = 'No model here has a feature network.';
      return;
    }
    const role = model.featureNetworkRole ?? '';
    modelNote.textContent = `Feature network: ${ROLE_WORDS[role] ?? role}; dataset ${model.dataset}.`;
    const classes = classesOf(model);
    const layers = model.featureLayers ?? [];

    const wantedLayer = remembered.inputs.layer;
    layerSelect.replaceChildren(...layers.map((l) => el('option', { value: l.name, selected: l.name === wantedLayer }, layerLabel(l))));
    conceptOptions(conceptSelect, classes, 'concept');

    // Default layers: the activations when the network has separate ones (DCGAN's LeakyReLUs), else all but a 1-unit output.
    const activations = layers.filter((l) => /relu|activation|elu|sigmoid|tanh/i.test(l.className));
    const defaults = new Set((activations.length > 0 ? activations : layers.filter((l) => l.neurons > 1)).slice(0, 8).map((l) => l.name));
    layersBox.replaceChildren(
      el('legend', {}, 'Layers (features concatenated, 1..8)'),
      ...layers.map((l) => {
        const id = `classifier-layer-${l.name}`;
        return el(
          'span',
          { class: 'feat-check' },
          el('input', { type: 'checkbox', id, name: 'layers', value: l.name, checked: defaults.has(l.name) }),
          el('label', { for: id }, l.name, el('span', { class: 'muted' }, ` ${l.className} ${shape(l.outputShape)}`)),
        );
      }),
    );

    // Filter removal names generator layers with several feature maps: zeroing the only map of an image layer says nothing.
    const mapLayers = model.generatorLayers.filter((l) => isConvMaps(l) && l.neurons > 1);
    const wantedFilterLayer = remembered.inputs.filterLayer;
    filterLayerSelect.replaceChildren(...mapLayers.map((l) => el('option', { value: l.name, selected: l.name === wantedFilterLayer }, layerLabel(l))));
    conceptOptions(filterConceptSelect, classes, 'filterConcept');
    const noMaps = mapLayers.length === 0;
    for (const control of filterForm.querySelectorAll('input, select, button'))
      /** @type {HTMLInputElement | HTMLSelectElement | HTMLButtonElement} */ (control).disabled = noMaps;
    filterNote.textContent = noMaps
      ? `The generator of ${model.id} has no layer with several feature maps (${model.generatorLayers.map((l) => `${l.name} ${shape(l.outputShape)}`).join(', ')}): pick a DCGAN.`
      : '';
    filterNote.hidden = !noMaps;
  }

  modelSelect.addEventListener('change', () => {
    // Work for the model before must not land under this one.
    for (const abort of aborts) abort.abort();
    showModel();
  });
  for (const [select, key] of /** @type {Array<[HTMLSelectElement, string]>} */ ([
    [layerSelect, 'layer'],
    [conceptSelect, 'concept'],
    [filterLayerSelect, 'filterLayer'],
    [filterConceptSelect, 'filterConcept'],
  ])) {
    select.addEventListener('change', () => (remembered.inputs[key] = select.value));
  }
  layerSelect.addEventListener('change', () => {
    probeResult.replaceChildren(el('p', { class: 'muted' }, 'Find neurons of this layer.'));
    resetStimulus();
  });

  // --- Grandmother neurons ---

  /** @type {(Probe & { modelId: string }) | undefined} */
  let probe;
  probeForm.addEventListener('submit', (event) => void onProbe(event));
  classifierForm.addEventListener('submit', (event) => void onClassifier(event));
  filterForm.addEventListener('submit', (event) => void onFilters(event));

  /** @param {SubmitEvent} event */
  async function onProbe(event) {
    event.preventDefault();
    clearError(probeForm);
    const model = currentModel();
    if (!model) return;
    const variables = { modelId: model.id, layer: layerSelect.value, concept: conceptSelect.value, neurons: optionalNumber(neuronsInput) };
    const status = progress(probeForm, `Testing every neuron of ${variables.layer} on the test images...`);
    try {
      const data = /** @type {{ neuronProbe: Probe }} */ (
        await guarded((signal) => busy(probeButton, () => gql(PROBE, variables, { signal }), 'Testing neurons...'))
      );
      probe = { ...data.neuronProbe, modelId: model.id };
      renderProbe();
      resetStimulus();
    } catch (error) {
      if (!isAbort(error)) showError(probeForm, error);
    } finally {
      status.done();
    }
  }

  function renderProbe() {
    if (!probe) return;
    const { layer, concept, positives, negatives } = probe;
    const total = positives + negatives;
    probeResult.replaceChildren(
      el(
        'p',
        { id: 'probe-summary' },
        `The ${probe.neurons.length} best of ${layer.neurons} ${isConvMaps(layer) ? 'feature maps' : 'units'} of ${layer.name} as detectors of \u201c${concept}\u201d: `,
        el('strong', {}, `${positives} positives, ${negatives} negatives`),
        ' (test images).',
      ),
      el(
        'ol',
        { class: 'neuron-list', id: 'probe-neurons' },
        ...probe.neurons.map((n, rank) => {
          const right = Math.round(n.accuracy * total);
          const name = neuronName(layer, n.neuron);
          return el(
            'li',
            { class: 'neuron-row', dataset: { neuron: String(n.neuron), accuracy: String(n.accuracy), threshold: String(n.threshold ?? '') } },
            el(
              'div',
              { class: 'neuron-head' },
              el('h3', {}, `${rank + 1}. ${name[0].toUpperCase()}${name.slice(1)}`),
              el(
                'span',
                { class: 'neuron-accuracy' },
                el('strong', { class: 'accuracy-value' }, percent(n.accuracy)),
                el('span', { class: 'muted' }, ' accuracy'),
              ),
              el('span', { class: 'feat-meter', 'aria-hidden': 'true' }, el('span', { style: { width: `${Math.max(0, Math.min(100, 100 * n.accuracy))}%` } })),
              el(
                'span',
                { class: 'muted neuron-facts' },
                n.threshold === null ? 'best to call nothing the concept' : `threshold ${precise(n.threshold)}`,
                ` \u00b7 ${right} of ${total} right (${positives}/${negatives})`,
              ),
              el(
                'button',
                {
                  type: 'button',
                  class: 'secondary small stimulus-button',
                  dataset: { neuron: String(n.neuron) },
                  'aria-controls': 'stimulus',
                  onClick: (/** @type {MouseEvent} */ e) => void showStimulus(n.neuron, /** @type {HTMLButtonElement} */ (e.currentTarget)),
                },
                'Optimal stimulus',
              ),
            ),
            el(
              'ul',
              { class: 'strip neuron-strip', 'aria-label': `Test images that activate ${name} most` },
              ...n.topImages.map((t) =>
                el(
                  'li',
                  { dataset: { index: String(t.index), label: t.label }, title: `test image #${t.index}, activation ${precise(t.activation)}` },
                  imageFromDataUrl(t.image.dataUrl, `Test image #${t.index}, a ${t.label}, activation ${precise(t.activation)}`, {
                    width: String(t.image.width),
                    height: String(t.image.height),
                  }),
                  el('span', { class: t.label === concept ? 'hit' : undefined }, t.label),
                ),
              ),
            ),
          );
        }),
      ),
    );
  }

  function resetStimulus() {
    stimulusBox.replaceChildren(
      el('h3', { id: 'stimulus-heading' }, 'Optimal stimulus'),
      el('p', { class: 'muted' }, 'Choose \u201cOptimal stimulus\u201d on a neuron: the image, within a norm bound, that excites it most.'),
    );
  }

  /**
   * @param {number} neuron
   * @param {HTMLButtonElement} button
   */
  async function showStimulus(neuron, button) {
    if (!probe) return;
    const { layer, modelId } = probe;
    clearError(stimulusBox);
    for (const b of probeResult.querySelectorAll('.stimulus-button')) b.setAttribute('aria-pressed', String(b === button));
    const name = neuronName(layer, neuron);
    stimulusBox.replaceChildren(el('h3', { id: 'stimulus-heading' }, `Optimal stimulus of ${name}`));
    const status = progress(stimulusBox, `Gradient ascent on ${name} of ${layer.name}...`);
    try {
      const variables = { modelId, layer: layer.name, neuron, steps: optionalNumber(stepsInput), maxNorm: optionalNumber(maxNormInput) };
      const data = /** @type {{ optimalStimulus: Stimulus }} */ (
        await guarded((signal) => busy(button, () => gql(STIMULUS, variables, { signal }), 'Climbing...'))
      );
      status.done();
      renderStimulus(data.optimalStimulus, layer);
    } catch (error) {
      status.done();
      if (!isAbort(error)) showError(stimulusBox, error);
    }
  }

  /**
   * @param {Stimulus} s
   * @param {Layer} layer
   */
  function renderStimulus(s, layer) {
    const name = neuronName(layer, s.neuron);
    const best = s.bestTestImage;
    const pre = s.preActivation !== null && s.maxTestPreActivation !== null;
    const verdict = s.exceedsEveryTestImage
      ? `It exceeds every test image: no held-out test image activates ${name} as much${pre ? ' (compared on the pre-activation, since the unit saturates)' : ''}.`
      : `It does not exceed every test image: test image #${best.index} (a ${best.label}) activates ${name} at least as much.`;
    const trace = el('div', { class: 'feat-trace' });
    stimulusBox.replaceChildren(
      el('h3', { id: 'stimulus-heading' }, `Optimal stimulus of ${name}`),
      el(
        'div',
        { class: 'pair' },
        el(
          'figure',
          {},
          imageFromDataUrl(s.image.dataUrl, `Optimal stimulus of ${name} of ${layer.name}`, { class: 'big-image', id: 'stimulus-image' }),
          el('figcaption', {}, 'Optimal stimulus'),
        ),
        el(
          'figure',
          {},
          imageFromDataUrl(best.image.dataUrl, `Test image #${best.index}, a ${best.label}: the one that activates ${name} most`, {
            class: 'big-image',
            id: 'stimulus-best',
          }),
          el('figcaption', {}, `Best test image #${best.index} (${best.label})`),
        ),
      ),
      el(
        'p',
        { id: 'stimulus-verdict', class: s.exceedsEveryTestImage ? 'success' : undefined, dataset: { exceeds: String(s.exceedsEveryTestImage) } },
        verdict,
      ),
      el(
        'table',
        { class: 'feat-table', id: 'stimulus-table' },
        el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', { scope: 'col' }, 'Stimulus'), el('th', { scope: 'col' }, 'Best test image'))),
        el(
          'tbody',
          {},
          el(
            'tr',
            {},
            el('th', { scope: 'row' }, 'Activation'),
            el('td', { id: 'stimulus-activation', dataset: { value: String(s.activation) } }, precise(s.activation)),
            el('td', { dataset: { value: String(s.maxTestActivation) } }, precise(s.maxTestActivation)),
          ),
          pre
            ? el(
                'tr',
                {},
                el('th', { scope: 'row' }, 'Pre-activation'),
                el('td', { id: 'stimulus-pre', dataset: { value: String(s.preActivation) } }, precise(s.preActivation)),
                el('td', { dataset: { value: String(s.maxTestPreActivation) } }, precise(s.maxTestPreActivation)),
              )
            : null,
        ),
      ),
      el(
        'p',
        { class: 'muted', id: 'stimulus-norm' },
        `\u2016x \u2212 c\u2016\u2082 = ${s.norm.toFixed(2)} within the bound ${s.maxNorm.toFixed(2)}`,
        Math.abs(s.maxNorm - s.meanTestNorm) < 1e-9
          ? ' (the test images\u2019 mean norm, so the comparison is fair)'
          : ` (the test images\u2019 mean is ${s.meanTestNorm.toFixed(2)})`,
        `; ${s.steps} steps of ${s.stepSize.toFixed(3)}.`,
      ),
      trace,
    );
    const width = Math.max(220, Math.min(420, Math.floor(stimulusBox.clientWidth - 8 || 320)));
    trace.append(
      linePlot({
        title: `Activation of ${name} during the ascent`,
        width,
        height: 150,
        xLabel: 'step',
        format: (/** @type {number} */ y) => y.toPrecision(4),
        series: [{ name: 'activation', points: s.trace.map((y, x) => ({ x, y })) }],
      }),
    );
  }

  // --- Linear classifier ---

  /** @param {SubmitEvent} event */
  async function onClassifier(event) {
    event.preventDefault();
    clearError(classifierForm);
    const model = currentModel();
    if (!model) return;
    const status = progress(classifierForm, 'Pooling features and fitting the classifiers...');
    try {
      const layers = [...layersBox.querySelectorAll('input[name=layers]:checked')].map((box) => /** @type {HTMLInputElement} */ (box).value);
      if (layers.length === 0) throw new Error('choose at least one layer');
      const variables = { modelId: model.id, layers, labelsPerClass: requiredNumber(labelsInput, 'Labels per class'), seed: optionalNumber(classifierSeed) };
      const data = /** @type {{ featureClassifier: Classifier }} */ (
        await guarded((signal) => busy(classifierButton, () => gql(CLASSIFIER, variables, { signal }), 'Fitting...'))
      );
      renderClassifier(data.featureClassifier);
    } catch (error) {
      if (!isAbort(error)) showError(classifierForm, error);
    } finally {
      status.done();
    }
  }

  /** @param {Classifier} r */
  function renderClassifier(r) {
    /**
     * @param {string} id
     * @param {string} label
     * @param {ClassifierScore} score
     */
    const bar = (id, label, score) =>
      el(
        'div',
        { class: 'feat-bar', id, dataset: { accuracy: String(score.accuracy) } },
        el('span', { class: 'feat-bar-label' }, label),
        el('span', { class: 'feat-meter', 'aria-hidden': 'true' }, el('span', { style: { width: `${100 * score.accuracy}%` } })),
        el('strong', { class: 'feat-bar-value' }, percent(score.accuracy)),
      );
    /**
     * @param {string} label
     * @param {ClassifierScore} score
     */
    const row = (label, score) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, label),
        el('td', {}, percent(score.accuracy)),
        el('td', {}, score.c.toString()),
        el('td', {}, score.features.toLocaleString('en')),
      );
    classifierResult.replaceChildren(
      el('h3', {}, 'Test accuracy'),
      bar('classifier-features', `Features (${r.layers.map((l) => l.name).join(' + ')})`, r.features),
      bar('classifier-pixels', 'Raw pixels', r.rawPixels),
      el(
        'table',
        { class: 'feat-table', id: 'classifier-table' },
        el(
          'thead',
          {},
          el('tr', {}, el('th', {}, ''), el('th', { scope: 'col' }, 'Accuracy'), el('th', { scope: 'col' }, 'C'), el('th', { scope: 'col' }, 'Features')),
        ),
        el('tbody', {}, row('Features', r.features), row('Raw pixels', r.rawPixels)),
      ),
      el(
        'p',
        { class: 'muted', id: 'classifier-counts', dataset: { train: String(r.trainCount), test: String(r.testCount) } },
        `Fitted on ${r.trainCount} labelled training images (${r.labelsPerClass} per class), scored on ${r.testCount.toLocaleString('en')} held-out test images; C chosen by 5-fold cross-validation.`,
      ),
    );
  }

  // --- Filter removal ---

  /** @param {SubmitEvent} event */
  async function onFilters(event) {
    event.preventDefault();
    clearError(filterForm);
    const model = currentModel();
    if (!model) return;
    const variables = {
      modelId: model.id,
      layer: filterLayerSelect.value,
      concept: filterConceptSelect.value,
      count: optionalNumber(countInput),
      samples: optionalNumber(samplesInput),
      checkSamples: optionalNumber(checkInput),
      seed: optionalNumber(filterSeed),
    };
    const show = optionalNumber(showInput) ?? 12;
    const status = progress(filterForm, `Labelling ${variables.samples ?? 500} samples and fitting the filters of \u201c${variables.concept}\u201d...`);
    try {
      await guarded((signal) =>
        busy(
          filterButton,
          async () => {
            const found = /** @type {{ conceptFilters: ConceptFilters }} */ (await gql(FILTERS, variables, { signal })).conceptFilters;
            status.update(`Generating ${show} samples of seed ${found.check.seed}, as they are and without the filters...`);
            const seed = found.check.seed;
            const removeFilters = { layer: found.layer.name, filters: found.filters.map((f) => f.filter) };
            const [before, after] = /** @type {Array<{ samples: FilterSample[] }>} */ (
              await Promise.all([
                gql(SAMPLES, { modelId: model.id, count: show, seed }, { signal }),
                gql(SAMPLES, { modelId: model.id, count: show, seed, removeFilters }, { signal }),
              ])
            );
            renderFilters(found, before.samples, after.samples);
          },
          'Working...',
        ),
      );
    } catch (error) {
      if (!isAbort(error)) showError(filterForm, error);
    } finally {
      status.done();
    }
  }

  /**
   * @param {ConceptFilters} r
   * @param {FilterSample[]} before
   * @param {FilterSample[]} after
   */
  function renderFilters(r, before, after) {
    const concept = r.concept;
    const maxWeight = Math.max(...r.filters.map((f) => f.weight), 1e-12);
    const p = (/** @type {number | null | undefined} */ v) => (v === null || v === undefined ? '-' : v.toFixed(3));
    // Measures as rows, before/after as columns: three columns fit a phone.
    const { before: b, after: a } = r.check;
    /**
     * @template {keyof ScorerCheck} K
     * @param {string} label
     * @param {K} key
     * @param {(v: ScorerCheck[K]) => string} format
     */
    const measure = (label, key, format) =>
      el('tr', { dataset: { measure: key } }, el('th', { scope: 'row' }, label), el('td', {}, format(b[key])), el('td', {}, format(a[key])));
    /**
     * @param {string} label
     * @param {ScorerCheck} s
     * @param {string} id
     */
    const column = (label, s, id) =>
      el(
        'th',
        {
          scope: 'col',
          id,
          dataset: {
            conceptProbability: String(s.conceptSampleProbability),
            otherProbability: String(s.otherSampleProbability),
            share: String(s.share),
            mean: String(s.meanProbability),
          },
        },
        label,
      );
    /**
     * @param {string} id
     * @param {string} label
     * @param {FilterSample[]} samples
     */
    const strip = (id, label, samples) =>
      el(
        'figure',
        { class: 'feat-samples' },
        el('figcaption', {}, label),
        el(
          'ul',
          { class: 'strip', id },
          ...samples.map((s) =>
            el(
              'li',
              { dataset: { sampleId: s.id } },
              imageFromUrl(s.image.url, `${label}: sample ${s.index + 1}`, { width: String(s.image.width), height: String(s.image.height) }),
            ),
          ),
        ),
      );
    filterResult.replaceChildren(
      el('h3', {}, `Filters of \u201c${concept}\u201d in ${r.layer.name}`),
      el(
        'ol',
        { class: 'filter-list', id: 'concept-filters', 'aria-label': 'Filters, largest weight first' },
        ...r.filters.map((f) =>
          el(
            'li',
            { dataset: { filter: String(f.filter), weight: String(f.weight) } },
            el('span', { class: 'filter-index' }, `#${f.filter}`),
            el('span', { class: 'feat-meter', 'aria-hidden': 'true' }, el('span', { style: { width: `${Math.max(2, (100 * f.weight) / maxWeight)}%` } })),
            el('span', { class: 'filter-weight' }, f.weight >= 0 ? `+${f.weight.toFixed(3)}` : f.weight.toFixed(3)),
          ),
        ),
      ),
      el(
        'p',
        { class: 'muted', id: 'filter-summary' },
        `${r.positiveFilters} of ${r.layer.neurons} feature maps have a positive weight (C ${r.c}); fitted on ${r.samples} samples labelled by ${r.scorer}, ${r.conceptSamples} of them \u201c${concept}\u201d.`,
      ),
      el('h3', {}, `The scorer on ${r.check.samples} samples of seed ${r.check.seed}`),
      el(
        'div',
        { class: 'table-scroll' },
        el(
          'table',
          { class: 'feat-table', id: 'removal-table' },
          el(
            'thead',
            {},
            el('tr', {}, el('td', {}), column('As generated', b, 'removal-before-col'), column(`${r.filters.length} filters zeroed`, a, 'removal-after-col')),
          ),
          el(
            'tbody',
            {},
            measure(`P(${concept}) of the ${r.check.conceptSamples} samples called \u201c${concept}\u201d`, 'conceptSampleProbability', p),
            measure('The others\u2019 P(own label): the control', 'otherSampleProbability', p),
            measure(`Share called \u201c${concept}\u201d`, 'share', percent),
            measure(`Mean P(${concept}) over all ${r.check.samples}`, 'meanProbability', p),
          ),
        ),
      ),
      el(
        'div',
        { class: 'feat-compare' },
        strip('removal-before', `Seed ${r.check.seed} as generated`, before),
        strip('removal-after', `Seed ${r.check.seed} with the ${r.filters.length} filters zeroed`, after),
      ),
    );
  }

  // --- Models ---

  async function loadModels() {
    try {
      const data = /** @type {{ models: ModelInfo[], scorers: Scorer[] }} */ (await guarded((signal) => gql(MODELS, {}, { signal })));
      clearError(modelPanel);
      models = data.models.filter((m) => m.featureNetworkRole !== null);
      scorers = data.scorers;
      const preferred = models.find((m) => m.id === remembered.modelId) ?? models.find((m) => m.featureNetworkRole === 'encoder') ?? models[0];
      modelSelect.replaceChildren(...models.map((m) => el('option', { value: m.id, selected: m.id === preferred?.id }, `${m.id} (${m.featureNetworkRole})`)));
      if (models.length === 0) modelSelect.replaceChildren(el('option', { value: '' }, 'No model with a feature network'));
      showModel();
    } catch (error) {
      if (isAbort(error)) return;
      modelSelect.replaceChildren(el('option', { value: '' }, 'Could not load the models'));
      showError(modelPanel, error);
    }
  }
  void loadModels();
  // A key pasted under Settings: ask again with it.
  cleanups.push(onApiKeyChange(() => void loadModels()));

  return () => {
    for (const cleanup of cleanups) cleanup();
  };
}
