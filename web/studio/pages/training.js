// @ts-check
// Training: start a job (from scratch or fine-tuning a version), list recent jobs, watch one live over
// the trainingProgress subscription (losses plot, each epoch's fixed-noise sample grid), cancel it.
import { ApiError, gql, onApiKeyChange } from '../lib/api.js';
import { subscribe } from '../lib/subscriptions.js';
import { busy, clearError, el, imageFromDataUrl, showError } from '../lib/ui.js';
import { linePlot } from '../lib/plot.js';
/** @import { Series } from '../lib/plot.js' */
/** @import { Image } from '../lib/types.js' */

const SPEC = `spec { mode architecture dataset epochs batchSize learningRate seed limit labelsPerClass latentSize
  techniques { labelSmoothing featureMatching { layer } minibatchDiscrimination { kernels kernelDim } historicalAveraging { weight } virtualBatchNorm { referenceSize } } }`;
const JOB = `id name version state progress epochsCompleted error modelId parentModelId keptModelIds createdAt ${SPEC}`;
const EPOCH_METRICS = 'epoch generatorLoss discriminatorLoss dAccuracyReal dAccuracyFake testError seconds imagesPerSecond keptModelId';
const EPOCH = `${EPOCH_METRICS} samples { dataUrl width height }`;
// Every epoch's grid is a PNG of ~10-30 kB: a long job's history is read without them, unless it is short.
const MAX_EPOCHS_WITH_GRIDS = 50;
const EVENTS = `subscription Watch($id: ID!) { trainingProgress(jobId: $id) {
  type state progress epochsCompleted modelId error
  step { epoch step stepsPerEpoch generatorLoss discriminatorLoss imagesPerSecond }
  epoch { ${EPOCH} } } }`;

/**
 * @typedef {{
 *   featureMatching: { layer: string } | null, minibatchDiscrimination: { kernels: number, kernelDim: number } | null,
 *   historicalAveraging: { weight: number } | null, labelSmoothing: number | null, virtualBatchNorm: { referenceSize: number } | null,
 * }} Techniques
 * @typedef {{
 *   mode: string, architecture: string, dataset: string, epochs: number, batchSize: number, learningRate: number, seed: number,
 *   limit: number | null, labelsPerClass: number | null, latentSize: number, techniques: Techniques | null,
 * }} Spec
 * @typedef {{
 *   epoch: number, generatorLoss: number, discriminatorLoss: number, dAccuracyReal: number, dAccuracyFake: number,
 *   testError: number | null, seconds: number, imagesPerSecond: number | null, keptModelId: string | null, samples?: Image | null,
 * }} Epoch an epoch's metrics; `samples` (its fixed-noise grid) only when asked for
 * @typedef {{
 *   id: string, name: string, version: string, state: string, progress: number, epochsCompleted: number, error: string | null,
 *   modelId: string | null, parentModelId: string | null, keptModelIds: string[], createdAt: string, spec: Spec,
 * }} Job
 * @typedef {{ epoch: number, step: number, stepsPerEpoch: number, generatorLoss: number, discriminatorLoss: number, imagesPerSecond: number }} Step
 * @typedef {{
 *   type: 'STEP' | 'EPOCH' | 'STATE' | 'END', state: string, progress: number, epochsCompleted: number, modelId: string | null,
 *   error: string | null, step: Step | null, epoch: Epoch | null,
 * }} ProgressEvent
 * @typedef {Pick<Job, 'id' | 'name' | 'version' | 'state' | 'progress' | 'epochsCompleted' | 'createdAt'> & { spec: Pick<Spec, 'epochs' | 'architecture' | 'mode'> }} JobListItem
 * @typedef {{ id: string, name: string, architecture: string, dataset: string }} Version
 */

const ACTIVE = new Set(['QUEUED', 'RUNNING']);
// The step plot keeps this many recent steps: enough for a long job's trend, light to redraw.
const MAX_STEPS = 2000;

/** @param {HTMLElement} root */
export function mount(root) {
  /** @type {Array<() => void>} */
  const cleanups = [];
  /** @type {{ stop(): void } | null} the job on screen */
  let watching = null;

  const startPanel = el('section', { class: 'panel train-start', 'aria-labelledby': 'train-start-h' }, el('h2', { id: 'train-start-h' }, 'Start a job'));
  const jobsPanel = el('section', { class: 'panel train-jobs', 'aria-labelledby': 'train-jobs-h' });
  const watchPanel = el('section', { class: 'panel train-watch', 'aria-labelledby': 'train-watch-h', hidden: '' });
  root.append(
    el(
      'div',
      { class: 'page training' },
      el('h1', { tabindex: '-1' }, 'Training'),
      el(
        'p',
        { class: 'muted' },
        'Train a GAN on a worker thread of the server: from scratch, or fine-tuning a version. Each epoch shows G\u2019s samples from the same fixed noise. Needs a key with the train scope.',
      ),
      el('div', { class: 'train-layout' }, startPanel, el('div', { class: 'train-side' }, watchPanel, jobsPanel)),
    ),
  );

  const form = buildForm(startPanel);
  form.element.addEventListener('submit', (event) => {
    event.preventDefault();
    clearError(form.errors);
    form.clearInvalid();
    void busy(form.submit, async () => {
      try {
        const input = form.read();
        const data = /** @type {{ startTraining: Job }} */ (
          await gql(`mutation Start($input: StartTrainingInput!) { startTraining(input: $input) { ${JOB} } }`, { input })
        );
        void loadJobs();
        watch(data.startTraining.id);
      } catch (err) {
        showError(form.errors, err);
        form.markInvalid(err);
      }
    });
  });

  // Recent jobs.
  const jobsList = el('ul', { class: 'job-list' });
  const jobsErrors = el('div', { class: 'errors' });
  const refresh = el('button', { type: 'button', class: 'secondary' }, 'Refresh');
  jobsPanel.append(el('div', { class: 'row train-jobs-head' }, el('h2', { id: 'train-jobs-h' }, 'Recent jobs'), refresh), jobsErrors, jobsList);
  refresh.addEventListener('click', () => void busy(refresh, loadJobs));

  async function loadJobs() {
    clearError(jobsErrors);
    try {
      const data = /** @type {{ trainingJobs: { totalCount: number, edges: Array<{ node: JobListItem }> } }} */ (
        await gql(
          `query Jobs { trainingJobs(first: 10) { totalCount edges { node { id name version state progress epochsCompleted createdAt spec { epochs architecture mode } } } } }`,
        )
      );
      renderJobs(
        data.trainingJobs.edges.map((e) => e.node),
        data.trainingJobs.totalCount,
      );
    } catch (err) {
      jobsList.replaceChildren();
      showError(jobsErrors, err);
    }
  }

  /**
   * @param {JobListItem[]} jobs
   * @param {number} total
   */
  function renderJobs(jobs, total) {
    if (!jobs.length) {
      jobsList.replaceChildren(el('li', { class: 'muted' }, 'No training jobs yet.'));
      return;
    }
    jobsList.replaceChildren(
      ...jobs.map((job) => {
        const button = el('button', { type: 'button', class: 'secondary', 'aria-label': `Watch job ${job.name}@${job.version}` }, 'Watch');
        button.addEventListener('click', () => watch(job.id));
        return el(
          'li',
          { class: 'job-item', 'data-job-id': job.id },
          el('span', { class: `state state-${job.state.toLowerCase()}` }, job.state),
          el('span', { class: 'job-name' }, `${job.name}@${job.version}`),
          el(
            'span',
            { class: 'muted' },
            `${job.spec.architecture}${job.spec.mode === 'KPLUSONE' ? ' K+1' : ''}, ${job.epochsCompleted}/${job.spec.epochs} epochs, ${Math.round(job.progress * 100)}%`,
          ),
          button,
        );
      }),
    );
    if (total > jobs.length) jobsList.append(el('li', { class: 'muted' }, `${total - jobs.length} older jobs not shown.`));
  }

  /** @param {string} id */
  function watch(id) {
    watching?.stop();
    watching = watchJob(watchPanel, id, { onChange: () => void loadJobs() });
  }

  // Fine-tune choices come from the served versions (anonymous clients may list them) that have a generator to fine-tune.
  const loadVersions = () =>
    gql('query Versions { models { id name architecture dataset latentSize } }')
      .then((data) =>
        form.setModels(/** @type {{ models: Array<Version & { latentSize: number | null }> }} */ (data).models.filter((m) => m.latentSize !== null)),
      )
      .catch((err) => showError(form.errors, err));
  void loadVersions();
  void loadJobs();

  // A key pasted under Settings may now allow what was refused: read the versions and the jobs again.
  cleanups.push(
    onApiKeyChange(() => {
      void loadVersions();
      void loadJobs();
    }),
  );
  cleanups.push(() => watching?.stop());
  return () => cleanups.forEach((fn) => fn());
}

/**
 * The start form: every StartTrainingInput field a person is likely to set, with the technique switches.
 * @param {HTMLElement} panel
 */
function buildForm(panel) {
  let uid = 0;
  /**
   * @param {string} label
   * @param {HTMLInputElement | HTMLSelectElement} control
   * @param {string} [hint]
   */
  const field = (label, control, hint) => {
    const id = `train-${control.name}-${++uid}`;
    control.id = id;
    /** @type {HTMLElement[]} */
    const parts = [el('label', { for: id }, label), control];
    if (hint) {
      const hintId = `${id}-hint`;
      control.setAttribute('aria-describedby', hintId);
      parts.push(el('small', { id: hintId, class: 'muted' }, hint));
    }
    return el('div', { class: 'field' }, ...parts);
  };
  /**
   * @param {string} name
   * @param {string} value
   * @param {Record<string, string>} [attrs]
   */
  const number = (name, value, attrs = {}) => {
    const input = el('input', { type: 'number', name, inputmode: attrs.step === 'any' ? 'decimal' : 'numeric', ...attrs });
    input.value = value;
    return input;
  };
  /**
   * @param {string} name
   * @param {Array<[value: string, text: string]>} options
   */
  const select = (name, options) => el('select', { name }, ...options.map(([value, text]) => el('option', { value }, text)));

  /** @type {Version[]} */
  let models = [];
  const from = select('fineTuneFrom', [['', 'Scratch (new weights)']]);
  const mode = select('mode', [
    ['GAN', 'GAN'],
    ['KPLUSONE', 'K+1 semi-supervised'],
    ['AUTOENCODER', 'Sparse autoencoder (features)'],
    ['SUPERVISED', 'Supervised only (the K+1 baseline)'],
  ]);
  const architecture = select('architecture', [
    ['', 'Default (DCGAN)'],
    ['DCGAN', 'DCGAN'],
    ['MLP', 'MLP'],
  ]);
  const dataset = select('dataset', [
    ['', 'Default (MNIST)'],
    ['MNIST', 'MNIST'],
    ['FASHION_MNIST', 'Fashion-MNIST'],
  ]);
  const epochs = number('epochs', '1', { min: '1', max: '1000', required: '' });
  const batchSize = number('batchSize', '64', { min: '1', max: '1024' });
  const learningRate = number('learningRate', '0.0002', { step: 'any', min: '0' });
  const seed = number('seed', '42', { min: '0' });
  const limit = number('limit', '', { min: '1', placeholder: 'all' });
  const labelsPerClass = number('labelsPerClass', '10', { min: '1', max: '1000' });
  const name = el('input', { type: 'text', name: 'name', autocomplete: 'off', placeholder: 'default', spellcheck: 'false' });

  const labelsField = field('Labels per class', labelsPerClass, 'K+1 and supervised only: 10 = the paper\u2019s 100 labels.');
  const labelled = () => mode.value === 'KPLUSONE' || mode.value === 'SUPERVISED';
  const syncMode = () => {
    labelsField.hidden = !labelled();
    labelSmoothing.toggle.disabled = mode.value === 'KPLUSONE';
    // An autoencoder (Le et al. 2012) has no discriminator and the supervised baseline no generator: none of the GAN switches apply.
    techniquesBox.hidden = mode.value === 'AUTOENCODER' || mode.value === 'SUPERVISED';
  };
  // Fine-tuning takes the version's architecture and dataset: the selects say so instead of a stale choice.
  const syncFrom = () => {
    const version = models.find((m) => m.id === from.value);
    /** @type {Array<[HTMLSelectElement, string, string | undefined]>} */
    const choices = [
      [architecture, 'Default (DCGAN)', version?.architecture],
      [dataset, 'Default (MNIST)', version?.dataset],
    ];
    for (const [control, fallback, own] of choices) {
      control.disabled = version !== undefined;
      control.options[0].textContent = version ? `The version\u2019s (${own})` : fallback;
      if (version) control.value = '';
    }
  };

  // Salimans et al. 2016's switches: each a checkbox with its parameters, off by default.
  /**
   * @param {string} key
   * @param {string} label
   * @param {string} hint
   * @param {Array<[text: string, control: HTMLInputElement]>} inputs
   */
  const technique = (key, label, hint, inputs) => {
    const toggle = el('input', { type: 'checkbox', name: `t-${key}`, id: `train-t-${key}` });
    const params = el('div', { class: 'technique-params' }, ...inputs.map(([text, control]) => field(text, control)));
    const sync = () => {
      params.hidden = !toggle.checked;
    };
    toggle.addEventListener('change', sync);
    sync();
    const box = el(
      'div',
      { class: 'technique' },
      el('div', { class: 'check' }, toggle, el('label', { for: toggle.id }, label), el('small', { class: 'muted' }, hint)),
      params,
    );
    return { box, toggle };
  };
  const fmLayer = el('input', { type: 'text', name: 'featureMatchingLayer', placeholder: 'e.g. d_flatten', spellcheck: 'false', autocomplete: 'off' });
  const featureMatching = technique('featureMatching', 'Feature matching', 'G matches D\u2019s mean features on a layer (always on for K+1).', [
    ['Discriminator layer', fmLayer],
  ]);
  const mbdKernels = number('mbdKernels', '100', { min: '1', max: '1024' });
  const mbdDim = number('mbdKernelDim', '5', { min: '1', max: '256' });
  const minibatch = technique('minibatch', 'Minibatch discrimination', 'DCGAN only.', [
    ['Kernels', mbdKernels],
    ['Kernel rows', mbdDim],
  ]);
  const haWeight = number('haWeight', '0.001', { step: 'any', min: '0' });
  const historical = technique('historical', 'Historical averaging', 'Pulls weights toward their running mean.', [['Weight', haWeight]]);
  const lsTarget = number('lsTarget', '0.9', { step: 'any', min: '0', max: '1' });
  const labelSmoothing = technique('labelSmoothing', 'One-sided label smoothing', 'D\u2019s target for real images; GAN mode only.', [
    ['Real target', lsTarget],
  ]);
  const vbnSize = number('vbnSize', '64', { min: '1', max: '1024' });
  const vbn = technique('vbn', 'Virtual batchnorm', 'In G: DCGAN, or the K+1 MLP.', [['Reference batch', vbnSize]]);

  const techniquesBox = el(
    'fieldset',
    { class: 'techniques' },
    el('legend', {}, 'Techniques (Salimans et al. 2016)'),
    featureMatching.box,
    minibatch.box,
    historical.box,
    labelSmoothing.box,
    vbn.box,
  );
  const errors = el('div', { class: 'errors' });
  const submit = el('button', { type: 'submit' }, 'Start training');
  const element = el(
    'form',
    { class: 'train-form', novalidate: '' },
    field('Start from', from, 'Fine-tuning keeps the version\u2019s architecture and dataset.'),
    el(
      'div',
      { class: 'field-grid' },
      field('Mode', mode),
      field('Architecture', architecture),
      field('Dataset', dataset),
      field('Epochs', epochs, '1..1000'),
      field('Batch size', batchSize),
      field('Learning rate', learningRate, 'Adam, > 0 and \u2264 1'),
      field('Seed', seed),
      field('Training images', limit, 'Blank: all'),
      labelsField,
      field('Name', name, 'Of the new versions'),
    ),
    techniquesBox,
    errors,
    el('div', { class: 'row' }, submit),
  );
  mode.addEventListener('change', syncMode);
  from.addEventListener('change', syncFrom);
  syncMode();
  syncFrom();
  panel.append(element);

  const toNumber = (/** @type {HTMLInputElement} */ input) => (input.value.trim() === '' ? undefined : Number(input.value));
  /**
   * Server messages name the field first ("epochs: expected ..."): mark and focus that control.
   * @type {Record<string, HTMLInputElement | HTMLSelectElement>}
   */
  const controls = {
    epochs,
    batchSize,
    learningRate,
    seed,
    limit,
    labelsPerClass,
    name,
    dataset,
    architecture,
    fineTuneFrom: from,
    mode,
    'techniques.featureMatching.layer': fmLayer,
    'techniques.minibatchDiscrimination.kernels': mbdKernels,
    'techniques.minibatchDiscrimination.kernelDim': mbdDim,
    'techniques.historicalAveraging.weight': haWeight,
    'techniques.labelSmoothing': lsTarget,
    'techniques.virtualBatchNorm.referenceSize': vbnSize,
  };

  return {
    element,
    errors,
    submit,
    /** @param {Version[]} list */
    setModels(list) {
      models = list;
      const current = from.value;
      from.replaceChildren(
        el('option', { value: '' }, 'Scratch (new weights)'),
        ...models.map((m) => el('option', { value: m.id }, `Fine-tune ${m.id} (${m.architecture}, ${m.dataset})`)),
      );
      from.value = models.some((m) => m.id === current) ? current : '';
      syncFrom();
    },
    read() {
      /** @type {Record<string, unknown> & { epochs: number }} the StartTrainingInput */
      const input = { epochs: toNumber(epochs) ?? Number.NaN };
      /**
       * @param {string} key
       * @param {string | number | undefined} value
       */
      const set = (key, value) => {
        if (value !== undefined && value !== '') input[key] = value;
      };
      set('fineTuneFrom', from.value);
      set('mode', mode.value);
      if (!from.value) {
        set('architecture', architecture.value);
        set('dataset', dataset.value);
      }
      set('batchSize', toNumber(batchSize));
      set('learningRate', toNumber(learningRate));
      set('seed', toNumber(seed));
      set('limit', toNumber(limit));
      if (labelled()) set('labelsPerClass', toNumber(labelsPerClass));
      set('name', name.value.trim());
      /** @type {Record<string, unknown>} */
      const techniques = {};
      const gan = mode.value !== 'AUTOENCODER' && mode.value !== 'SUPERVISED';
      if (gan && featureMatching.toggle.checked) techniques.featureMatching = { layer: fmLayer.value.trim() };
      if (gan && minibatch.toggle.checked) techniques.minibatchDiscrimination = { kernels: toNumber(mbdKernels), kernelDim: toNumber(mbdDim) };
      if (gan && historical.toggle.checked) techniques.historicalAveraging = { weight: toNumber(haWeight) };
      if (gan && labelSmoothing.toggle.checked && !labelSmoothing.toggle.disabled) techniques.labelSmoothing = toNumber(lsTarget);
      if (gan && vbn.toggle.checked) techniques.virtualBatchNorm = { referenceSize: toNumber(vbnSize) };
      if (Object.keys(techniques).length) input.techniques = techniques;
      // A blank or non-number epochs would be a GraphQL type error: say it as the server would.
      if (!Number.isInteger(input.epochs))
        throw new ApiError(
          `epochs: expected an integer in 1..1000, got ${epochs.value.trim() === '' ? 'nothing' : JSON.stringify(epochs.value)}`,
          'BAD_USER_INPUT',
        );
      return input;
    },
    /** @param {unknown} err */
    markInvalid(err) {
      const match = /^([\w.]+):/.exec(err instanceof Error ? err.message : '');
      const control = match ? controls[match[1]] : undefined;
      if (!control) return;
      control.setAttribute('aria-invalid', 'true');
      control.focus();
    },
    clearInvalid() {
      for (const control of Object.values(controls)) control.removeAttribute('aria-invalid');
    },
  };
}

/**
 * Shows one job live: state, progress, loss plots, epochs table, latest sample grid, cancel. Returns { stop }.
 * @param {HTMLElement} panel
 * @param {string} id
 * @param {{ onChange: () => void }} options
 */
function watchJob(panel, id, { onChange }) {
  let stopped = false;
  let unsubscribe = () => {};
  let frame = 0;
  /**
   * @type {{
   *   job: (Job & { epochs?: Epoch[] }) | null, steps: Array<{ x: number, g: number, d: number }>, epochs: Epoch[], lastStep: Step | null,
   *   progress: number, status: string, modelId: string | null, error: string | null,
   * }}
   */
  const state = { job: null, steps: [], epochs: [], lastStep: null, progress: 0, status: 'QUEUED', modelId: null, error: null };

  const heading = el('h2', { id: 'train-watch-h', tabindex: '-1' }, 'Job');
  const badge = el('span', { class: 'state' });
  const meta = el('p', { class: 'muted job-meta' });
  const bar = el('progress', { max: '1', value: '0', 'aria-labelledby': 'train-progress-label' });
  const barText = el('span', { id: 'train-progress-label', class: 'progress-text' }, 'Waiting for the first event\u2026');
  const live = el('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const cancel = el('button', { type: 'button', class: 'danger' }, 'Cancel job');
  const errors = el('div', { class: 'errors' });
  const result = el('div', { class: 'job-result' });
  const stepPlot = el('div', { class: 'plot-box step-plot' });
  const epochPlot = el('div', { class: 'plot-box epoch-plot' });
  const grid = el('figure', { class: 'sample-grid' }, el('figcaption', { class: 'muted' }, 'The fixed-noise samples appear after the first epoch.'));
  const tableBody = el('tbody');
  const table = el(
    'table',
    { class: 'epochs-table' },
    el('caption', { class: 'visually-hidden' }, 'Completed epochs'),
    el(
      'thead',
      {},
      el('tr', {}, ...['Epoch', 'G loss', 'D loss', 'D acc real', 'D acc fake', 'Test error', 'Seconds', 'Images/s'].map((t) => el('th', { scope: 'col' }, t))),
    ),
    tableBody,
  );

  panel.hidden = false;
  panel.replaceChildren(
    el('div', { class: 'row watch-head' }, heading, badge),
    meta,
    el('div', { class: 'progress' }, bar, barText),
    live,
    errors,
    result,
    el('div', { class: 'row' }, cancel),
    el('div', { class: 'watch-body' }, el('div', { class: 'watch-plots' }, stepPlot, epochPlot), grid),
    el('div', { class: 'table-scroll' }, table),
  );
  heading.focus();

  cancel.addEventListener('click', () => {
    clearError(errors);
    void busy(cancel, async () => {
      try {
        const data = /** @type {{ cancelTraining: Pick<Job, 'id' | 'state' | 'error' | 'epochsCompleted' | 'progress'> }} */ (
          await gql(`mutation Cancel($id: ID!) { cancelTraining(id: $id) { id state error epochsCompleted progress } }`, { id })
        );
        Object.assign(state, { status: data.cancelTraining.state, error: data.cancelTraining.error, progress: data.cancelTraining.progress });
        schedule();
        onChange();
      } catch (err) {
        showError(errors, err);
      }
    });
  });

  function schedule() {
    if (frame || stopped) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  }

  /** An autoencoder job reports its reconstruction error and sparsity penalty in the G and D loss fields; a supervised one its cross-entropy in D's. */
  function lossNames() {
    const mode = state.job?.spec.mode;
    if (mode === 'AUTOENCODER') return { g: 'reconstruction', d: 'sparsity', epochG: 'reconstruction', epochD: 'sparsity' };
    if (mode === 'SUPERVISED') return { g: null, d: 'cross-entropy', epochG: null, epochD: 'cross-entropy' };
    return { g: 'generator', d: 'discriminator', epochG: 'G loss', epochD: 'D loss' };
  }

  function render() {
    const job = state.job;
    if (job) {
      heading.textContent = `Job ${job.name}@${job.version}`;
      const s = job.spec;
      const t = describeTechniques(s.techniques);
      meta.textContent =
        `${s.mode === 'KPLUSONE' ? 'K+1 ' : s.mode === 'AUTOENCODER' ? 'sparse autoencoder, ' : s.mode === 'SUPERVISED' ? 'supervised-only ' : ''}${s.architecture} on ${s.dataset}${job.parentModelId ? `, fine-tuning ${job.parentModelId}` : ''}; ` +
        `${s.epochs} epochs of batch ${s.batchSize}, lr ${s.learningRate}, seed ${s.seed}${s.limit ? `, ${s.limit} images` : ''}${t ? `; ${t}` : ''}.`;
    }
    badge.className = `state state-${state.status.toLowerCase()}`;
    badge.textContent = state.status;
    bar.value = state.progress;
    const totalEpochs = job?.spec.epochs;
    const step = state.lastStep;
    const where = step
      ? `epoch ${step.epoch} of ${totalEpochs ?? '?'}, step ${step.step} of ${step.stepsPerEpoch}, ${imagesPerSecondText(step.imagesPerSecond)} images/s`
      : `${state.epochs.length} of ${totalEpochs ?? '?'} epochs done`;
    barText.textContent = `${Math.round(state.progress * 100)}% \u2014 ${where}`;
    cancel.disabled = !ACTIVE.has(state.status);
    cancel.hidden = !ACTIVE.has(state.status);

    if (state.modelId) {
      result.replaceChildren(el('p', { class: 'success' }, 'New version ', el('code', {}, state.modelId), ' is servable now: pick it in the Gallery.'));
    } else if (state.error && !ACTIVE.has(state.status)) {
      result.replaceChildren(el('p', { class: 'muted' }, `${state.status}: ${state.error}`));
    } else result.replaceChildren();

    const width = plotWidth(stepPlot);
    const names = lossNames();
    stepPlot.replaceChildren(
      linePlot({
        title: 'Losses per generator step',
        width,
        height: 220,
        xLabel: 'step',
        yLabel: 'loss',
        format: (/** @type {number} */ y) => y.toFixed(3),
        series: [
          // A supervised job has no generator: its G slot stays 0 and is not drawn.
          ...(names.g === null ? [] : [{ name: names.g, points: state.steps.map((p) => ({ x: p.x, y: p.g })) }]),
          { name: names.d, points: state.steps.map((p) => ({ x: p.x, y: p.d })) },
        ],
      }),
    );
    /** @type {Series[]} */
    const epochSeries = [
      ...(names.epochG === null ? [] : [{ name: names.epochG, points: state.epochs.map((e) => ({ x: e.epoch, y: e.generatorLoss })) }]),
      { name: names.epochD, points: state.epochs.map((e) => ({ x: e.epoch, y: e.discriminatorLoss })) },
    ];
    if (state.epochs.some((e) => e.testError !== null))
      epochSeries.push({ name: 'test error', points: state.epochs.flatMap((e) => (e.testError !== null ? [{ x: e.epoch, y: e.testError }] : [])) });
    epochPlot.replaceChildren(
      linePlot({
        title: 'Mean losses per epoch',
        width,
        height: 200,
        xLabel: 'epoch',
        yLabel: 'loss',
        format: (/** @type {number} */ y) => y.toFixed(3),
        series: epochSeries,
      }),
    );

    const last = state.epochs.findLast((e) => e.samples);
    if (!last && state.epochs.length > MAX_EPOCHS_WITH_GRIDS) {
      grid.replaceChildren(
        el('figcaption', { class: 'muted' }, `The sample grids of its ${state.epochs.length} epochs are not loaded; a running job shows each next one here.`),
      );
    }
    if (last?.samples) {
      const img = imageFromDataUrl(last.samples.dataUrl, `Samples from the fixed noise after epoch ${last.epoch}`, {
        width: String(last.samples.width),
        height: String(last.samples.height),
      });
      grid.replaceChildren(
        img,
        el(
          'figcaption',
          {},
          `Epoch ${last.epoch}: G\u2019s samples from the job\u2019s fixed noise${last.keptModelId ? ` (kept as ${last.keptModelId})` : ''}`,
        ),
      );
    }
    tableBody.replaceChildren(
      ...state.epochs.map((e) =>
        el(
          'tr',
          { 'data-epoch': String(e.epoch) },
          el('th', { scope: 'row' }, String(e.epoch)),
          ...[e.generatorLoss, e.discriminatorLoss, e.dAccuracyReal, e.dAccuracyFake].map((v) => el('td', {}, v.toFixed(3))),
          el('td', {}, e.testError === null ? '\u2014' : e.testError.toFixed(3)),
          el('td', {}, e.seconds.toFixed(1)),
          el('td', { 'data-col': 'images-per-second' }, e.imagesPerSecond === null ? '\u2014' : imagesPerSecondText(e.imagesPerSecond)),
        ),
      ),
    );
    table.hidden = state.epochs.length === 0;
  }

  /** @param {ProgressEvent} event */
  function onEvent(event) {
    state.status = event.state;
    state.progress = event.progress;
    switch (event.type) {
      case 'STEP': {
        const s = event.step;
        if (!s) break;
        state.lastStep = s;
        state.steps.push({ x: (s.epoch - 1) * s.stepsPerEpoch + s.step, g: s.generatorLoss, d: s.discriminatorLoss });
        if (state.steps.length > MAX_STEPS) state.steps.splice(0, state.steps.length - MAX_STEPS);
        break;
      }
      case 'EPOCH': {
        const done = event.epoch;
        if (!done) break;
        if (!state.epochs.some((e) => e.epoch === done.epoch)) state.epochs.push(done);
        live.textContent = `Epoch ${done.epoch} done: G loss ${done.generatorLoss.toFixed(3)}, D loss ${done.discriminatorLoss.toFixed(3)}.`;
        break;
      }
      case 'STATE':
        break;
      case 'END':
        state.modelId = event.modelId;
        state.error = event.error;
        live.textContent = `Job ${event.state.toLowerCase()}${event.modelId ? `: new version ${event.modelId}` : event.error ? `: ${event.error}` : ''}.`;
        onChange();
        break;
      default:
        break;
    }
    schedule();
  }

  // The epochs so far come from the job itself; the subscription brings what happens next. The job is
  // read again at the end, since a subscription that connects late sees only the END event.
  // Set when the live stream fails: the job is then followed by polling alone.
  let streamDown = false;
  /** @param {boolean} final */
  async function readJob(final) {
    try {
      /** @typedef {{ trainingJob: Job & { epochs: Epoch[] } }} JobRead */
      let data = /** @type {JobRead} */ (await gql(`query Job($id: ID!) { trainingJob(id: $id) { ${JOB} epochs { ${EPOCH_METRICS} } } }`, { id }));
      const haveGrid = state.epochs.some((e) => e.samples);
      const count = data.trainingJob.epochs.length;
      if (!haveGrid && count > 0 && count <= MAX_EPOCHS_WITH_GRIDS) {
        data = /** @type {JobRead} */ (await gql(`query JobGrids($id: ID!) { trainingJob(id: $id) { ${JOB} epochs { ${EPOCH} } } }`, { id }));
      }
      if (stopped) return;
      const job = data.trainingJob;
      state.job = job;
      for (const e of job.epochs) {
        const known = state.epochs.find((x) => x.epoch === e.epoch);
        if (!known) state.epochs.push(e);
        else if (!known.samples && e.samples) known.samples = e.samples;
      }
      state.epochs.sort((a, b) => a.epoch - b.epoch);
      // While the stream is live its STEP events are newer than this read; without it, this read is all there is.
      if (final || streamDown || !state.lastStep || !ACTIVE.has(job.state))
        Object.assign(state, { status: job.state, progress: job.progress, modelId: job.modelId, error: job.error });
      render();
    } catch (err) {
      showError(errors, err);
    }
  }
  // Without the live stream (a proxy without WebSockets, a dropped connection) the job is polled instead.
  let poll = 0;
  function pollUntilEnded() {
    if (stopped || !ACTIVE.has(state.status)) return;
    poll = setTimeout(() => {
      void readJob(false).then(pollUntilEnded);
    }, 2000);
  }
  void readJob(false);
  unsubscribe = subscribe(
    EVENTS,
    { id },
    {
      next: (data) => {
        const event = /** @type {{ trainingProgress: ProgressEvent }} */ (data).trainingProgress;
        onEvent(event);
        if (event.type === 'END') void readJob(true);
      },
      error: (err) => {
        showError(errors, err);
        streamDown = true;
        pollUntilEnded();
      },
      complete: () => undefined,
    },
  );
  render();

  // Plots are drawn at their box's pixel width: redraw when it changes.
  window.addEventListener('resize', schedule);

  return {
    stop() {
      stopped = true;
      clearTimeout(poll);
      window.removeEventListener('resize', schedule);
      if (frame) cancelAnimationFrame(frame);
      unsubscribe();
    },
  };
}

/** @param {Techniques | null} t */
function describeTechniques(t) {
  if (!t) return '';
  /** @type {string[]} */
  const on = [];
  if (t.featureMatching) on.push(`feature matching on ${t.featureMatching.layer}`);
  if (t.minibatchDiscrimination) on.push(`minibatch discrimination ${t.minibatchDiscrimination.kernels}x${t.minibatchDiscrimination.kernelDim}`);
  if (t.historicalAveraging) on.push(`historical averaging ${t.historicalAveraging.weight}`);
  if (t.labelSmoothing !== null && t.labelSmoothing !== undefined) on.push(`label smoothing ${t.labelSmoothing}`);
  if (t.virtualBatchNorm) on.push(`virtual batchnorm of ${t.virtualBatchNorm.referenceSize}`);
  return on.join(', ');
}

/**
 * The width a plot can use inside its box (its box is as wide as the layout allows).
 * @param {HTMLElement} box
 */
function plotWidth(box) {
  return Math.max(240, Math.min(720, Math.floor(box.clientWidth || box.parentElement?.clientWidth || 600)));
}

/**
 * Training throughput to three significant figures at most, as a whole number from 100 up.
 * @param {number} rate training images consumed per second
 */
function imagesPerSecondText(rate) {
  return rate >= 100 ? String(Math.round(rate)) : rate.toPrecision(3);
}
