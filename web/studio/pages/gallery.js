// @ts-check
// Gallery: samples of a model version from a seed; one sample's id, latent and nearest training image; pins.
import { gql, onApiKeyChange } from '../lib/api.js';
import { getPins, isPinned, onPinsChange, pin, unpin, clearPins } from '../lib/pins.js';
import { busy, clearError, el, field, imageFromDataUrl, imageFromUrl, modelOptions, pageHeader, progress, showError } from '../lib/ui.js';
/** @import { Pin } from '../lib/pins.js' */
/** @import { Image, ModelInfo, Sample } from '../lib/types.js' */

const MODELS = `query StudioModels {
  models { id name version architecture dataset latentSize imageShape { width height channels } aliases }
  serverInfo { maxSamplesPerRequest }
}`;
/** @typedef {{ models: ModelInfo[], serverInfo: { maxSamplesPerRequest: number } }} ModelsResult */

const SAMPLES = `query StudioSamples($modelId: ID, $count: Int, $seed: Int) {
  samples(modelId: $modelId, count: $count, seed: $seed) {
    id index modelId latent
    image { url width height }
  }
}`;
/** @typedef {{ samples: Sample[] }} SamplesResult */

const NEAREST = `query StudioNearest($ids: [ID!]!) {
  nearestNeighbours(sampleIds: $ids) {
    dataset split trainingIndex label distance
    neighbour { dataUrl width height }
  }
}`;
/** @typedef {{ nearestNeighbours: Array<{ dataset: string, split: string, trainingIndex: number, label: number, distance: number, neighbour: Image }> }} NearestResult */

/** Most samples the page asks for at once (the server's own limit may be lower). */
const MAX_COUNT = 64;

// What the page showed last, so coming back from another page shows the same grid.
/** @type {{ modelId: string | undefined, seed: string, count: string, samples: Sample[], seedUsed: number | undefined, selectedId: string | undefined }} */
const remembered = { modelId: undefined, seed: '7', count: '16', samples: [], seedUsed: undefined, selectedId: undefined };

/**
 * Parses an optional integer field: '' -> undefined; anything else goes to the server as a number, to be judged there.
 * @param {string} value
 */
function optionalInt(value) {
  const text = value.trim();
  return text === '' ? undefined : Number(text);
}

/** @param {HTMLElement} root */
export function mount(root) {
  /** @type {Array<() => void>} */
  const cleanups = [];
  /** @type {ModelInfo[]} */
  let models = [];
  let selected = remembered.samples.find((s) => s.id === remembered.selectedId);
  /** @type {AbortController | undefined} */
  let nearestAbort;

  const modelSelect = el('select', { name: 'modelId' }, el('option', { value: '' }, 'Loading...'));
  const seedInput = el('input', { name: 'seed', type: 'number', inputmode: 'numeric', step: '1', value: remembered.seed, placeholder: 'random' });
  const countInput = el('input', { name: 'count', type: 'number', inputmode: 'numeric', step: '1', value: remembered.count });
  const generate = el('button', { type: 'submit' }, 'Generate');
  const form = el(
    'form',
    { class: 'panel', 'aria-label': 'Generate samples' },
    el(
      'div',
      { class: 'row' },
      field('Model version', modelSelect),
      field('Seed', seedInput, 'Blank: random. Same seed, same images.'),
      field('Count', countInput, `1..${MAX_COUNT}`),
      generate,
    ),
  );

  const gridStatus = el('p', { class: 'muted', id: 'gallery-status', role: 'status' }, 'No samples yet: pick a model and a seed, then Generate.');
  const grid = el('div', { class: 'grid', id: 'gallery-grid', role: 'group', 'aria-label': 'Samples (choose one to see its details)' });
  const samplesPanel = el(
    'section',
    { class: 'panel', 'aria-labelledby': 'samples-heading' },
    el('h2', { id: 'samples-heading' }, 'Samples'),
    gridStatus,
    grid,
  );
  const detail = el('section', { class: 'panel', id: 'sample-detail', 'aria-labelledby': 'detail-heading', 'aria-live': 'polite' });
  const pinsList = el('ul', { class: 'pins', id: 'gallery-pins' });
  const pinsCount = el('span', { class: 'muted' });
  const clearPinsButton = el('button', { type: 'button', class: 'secondary small', onClick: () => clearPins() }, 'Unpin all');
  const pinsPanel = el(
    'section',
    { class: 'panel', 'aria-labelledby': 'pins-heading' },
    el('h2', { id: 'pins-heading' }, 'Pinned exemplars ', pinsCount),
    el('p', { class: 'muted' }, 'Pin samples to walk between them and to build concepts in the ', el('a', { href: '#/latent' }, 'latent explorer'), '.'),
    pinsList,
    el('div', { class: 'row' }, clearPinsButton),
  );

  const page = el(
    'section',
    { class: 'page', id: 'gallery-page' },
    pageHeader(
      'Gallery',
      'Samples of a model version from seeded noise. Choose one to see its latent vector, its id and its nearest training image, and pin it as an exemplar.',
    ),
    form,
    el('div', { class: 'columns' }, samplesPanel, detail),
    pinsPanel,
  );
  root.append(page);

  function renderGrid() {
    const samples = remembered.samples;
    grid.replaceChildren(
      ...samples.map((sample, i) =>
        el(
          'button',
          {
            type: 'button',
            class: 'sample-button',
            'aria-pressed': String(sample.id === selected?.id),
            dataset: { sampleId: sample.id },
            onClick: () => select(sample),
          },
          imageFromUrl(sample.image.url, `Sample ${i + 1}${isPinned(sample.id) ? ' (pinned)' : ''}`, {
            width: String(sample.image.width),
            height: String(sample.image.height),
          }),
          isPinned(sample.id) ? el('span', { class: 'pin-mark', 'aria-hidden': 'true' }, 'PIN') : null,
        ),
      ),
    );
  }

  // Updates the grid's pin marks in place, so a focused sample keeps the focus.
  function refreshPinMarks() {
    grid.querySelectorAll('button.sample-button').forEach((button, i) => {
      if (!(button instanceof HTMLButtonElement)) return;
      const pinned = isPinned(button.dataset.sampleId ?? '');
      const image = button.querySelector('img');
      if (image) image.alt = `Sample ${i + 1}${pinned ? ' (pinned)' : ''}`;
      const mark = button.querySelector('.pin-mark');
      if (pinned && !mark) button.append(el('span', { class: 'pin-mark', 'aria-hidden': 'true' }, 'PIN'));
      if (!pinned) mark?.remove();
    });
  }

  function renderDetail() {
    clearError(detail);
    if (!selected) {
      detail.replaceChildren(el('h2', { id: 'detail-heading' }, 'Sample'), el('p', { class: 'muted' }, 'Choose a sample in the grid.'));
      return;
    }
    const sample = selected;
    const pinned = isPinned(sample.id);
    const pinButton = el(
      'button',
      { type: 'button', id: 'pin-button', class: pinned ? 'secondary' : undefined, 'aria-pressed': String(pinned), onClick: () => togglePin(sample) },
      pinned ? 'Unpin exemplar' : 'Pin as exemplar',
    );
    const nearestBox = el('div', { id: 'nearest' });
    detail.replaceChildren(
      el('h2', { id: 'detail-heading' }, `Sample ${sample.index + 1}`),
      el(
        'div',
        { class: 'detail' },
        el(
          'div',
          { class: 'pair' },
          el(
            'figure',
            {},
            imageFromUrl(sample.image.url, `Sample ${sample.index + 1}, enlarged`, { class: 'big-image', id: 'detail-image' }),
            el('figcaption', {}, 'Generated'),
          ),
          nearestBox,
        ),
        el(
          'dl',
          { class: 'kv' },
          el('dt', {}, 'Id'),
          el('dd', {}, el('code', { id: 'detail-id' }, sample.id)),
          el('dt', {}, 'Model'),
          el('dd', {}, sample.modelId),
          el('dt', {}, 'Seed'),
          el('dd', {}, remembered.seedUsed === undefined ? 'random' : `${remembered.seedUsed}, image ${sample.index + 1}`),
        ),
        latentView(sample.latent),
        el('div', { class: 'row' }, pinButton),
      ),
    );
    void loadNearest(sample, nearestBox);
  }

  /**
   * @param {Sample} sample
   * @param {HTMLElement} box
   */
  async function loadNearest(sample, box) {
    nearestAbort?.abort();
    const abort = new AbortController();
    nearestAbort = abort;
    const status = progress(box, 'Finding the nearest training image...');
    try {
      const data = /** @type {NearestResult} */ (await gql(NEAREST, { ids: [sample.id] }, { signal: abort.signal }));
      if (abort.signal.aborted) return;
      const found = data.nearestNeighbours[0];
      status.done();
      box.replaceChildren(
        el(
          'figure',
          { id: 'nearest-figure', dataset: { trainingIndex: String(found.trainingIndex), distance: String(found.distance) } },
          imageFromDataUrl(found.neighbour.dataUrl, `Nearest ${found.dataset} training image, label ${found.label}`, { class: 'big-image' }),
          el('figcaption', {}, `Nearest ${found.split} image #${found.trainingIndex}, label ${found.label}, distance ${found.distance.toFixed(2)}`),
        ),
      );
    } catch (error) {
      if (abort.signal.aborted) return;
      status.done();
      showError(box, error);
    }
  }

  /** @param {Sample} sample */
  function select(sample) {
    selected = sample;
    remembered.selectedId = sample.id;
    for (const button of grid.querySelectorAll('.sample-button'))
      button.setAttribute('aria-pressed', String(button.getAttribute('data-sample-id') === sample.id));
    renderDetail();
  }

  /** @param {Sample} sample */
  function togglePin(sample) {
    if (isPinned(sample.id)) unpin(sample.id);
    else pin({ id: sample.id, modelId: sample.modelId, src: sample.image.url, label: `${sample.modelId} #${sample.index + 1}` });
    // onPinsChange re-renders; keep the keyboard where it was.
    /** @type {HTMLElement | null} */ (detail.querySelector('#pin-button'))?.focus();
  }

  /** @param {Pin[]} pins */
  function renderPins(pins) {
    pinsCount.textContent = `(${pins.length})`;
    clearPinsButton.disabled = pins.length === 0;
    pinsList.replaceChildren(
      ...(pins.length === 0
        ? [el('li', { class: 'muted' }, 'Nothing pinned yet.')]
        : pins.map((p, i) =>
            el(
              'li',
              { class: 'pin', dataset: { sampleId: p.id } },
              imageFromUrl(p.src, `Pinned exemplar ${i + 1} (${p.modelId})`),
              el('button', { type: 'button', class: 'secondary small', 'aria-label': `Unpin exemplar ${i + 1}`, onClick: () => unpin(p.id) }, 'Unpin'),
            ),
          )),
    );
  }

  /** @param {SubmitEvent} event */
  async function onGenerate(event) {
    event.preventDefault();
    clearError(form);
    remembered.modelId = modelSelect.value || undefined;
    remembered.seed = seedInput.value;
    remembered.count = countInput.value;
    const seed = optionalInt(seedInput.value);
    const count = optionalInt(countInput.value) ?? 1;
    const status = progress(samplesPanel, `Generating ${count} sample${count === 1 ? '' : 's'}...`);
    try {
      const data = /** @type {SamplesResult} */ (await busy(generate, () => gql(SAMPLES, { modelId: remembered.modelId, count, seed }), 'Generating...'));
      remembered.samples = data.samples;
      remembered.seedUsed = seed;
      selected = undefined;
      remembered.selectedId = undefined;
      gridStatus.textContent = `${data.samples.length} samples of ${remembered.modelId ?? 'the default model'}, ${seed === undefined ? 'random seed' : `seed ${seed}`}.`;
      renderGrid();
      renderDetail();
    } catch (error) {
      showError(form, error);
    } finally {
      status.done();
    }
  }

  form.addEventListener('submit', (event) => void onGenerate(event));
  cleanups.push(
    onPinsChange((pins) => {
      renderPins(pins);
      refreshPinMarks();
      if (selected) {
        const pinned = isPinned(selected.id);
        const button = detail.querySelector('#pin-button');
        if (button) {
          button.textContent = pinned ? 'Unpin exemplar' : 'Pin as exemplar';
          button.setAttribute('aria-pressed', String(pinned));
          button.classList.toggle('secondary', pinned);
        }
      }
    }),
  );
  cleanups.push(() => nearestAbort?.abort());

  renderPins(getPins());
  renderGrid();
  renderDetail();
  if (remembered.samples.length > 0) gridStatus.textContent = `${remembered.samples.length} samples (from before).`;

  async function loadModels() {
    try {
      const data = /** @type {ModelsResult} */ (await gql(MODELS));
      clearError(form);
      // A model without a generator (latentSize null: a supervised classifier) has no samples to show.
      models = data.models.filter((m) => m.latentSize !== null);
      // What the server serves when no model is named (the "default" alias), unless one was picked before.
      const preferred = models.find((m) => m.id === remembered.modelId) ?? models.find((m) => m.aliases.includes('default')) ?? models[0];
      modelSelect.replaceChildren(...modelOptions(models, preferred?.id));
      if (models.length === 0) modelSelect.replaceChildren(el('option', { value: '' }, 'No model loaded'));
      const limit = Math.min(MAX_COUNT, data.serverInfo.maxSamplesPerRequest);
      countInput.nextElementSibling?.replaceChildren(`1..${limit}`);
    } catch (error) {
      modelSelect.replaceChildren(el('option', { value: '' }, 'Server default'));
      showError(form, error);
    }
  }
  void loadModels();
  // A key pasted under Settings: ask again with it.
  cleanups.push(onApiKeyChange(() => void loadModels()));

  return () => {
    for (const cleanup of cleanups) cleanup();
  };
}

/**
 * The latent as a colour strip (blue negative, red positive) and its numbers, folded.
 * @param {number[]} latent
 */
function latentView(latent) {
  const canvas = el('canvas', {
    class: 'latent-strip pixelated',
    width: String(latent.length),
    height: '1',
    role: 'img',
    'aria-label': `Latent vector of ${latent.length} values as colours: blue negative, white zero, red positive`,
  });
  const context = canvas.getContext('2d');
  if (context) {
    const image = context.createImageData(latent.length, 1);
    latent.forEach((value, i) => {
      const t = Math.max(-1, Math.min(1, value / 2.5));
      const fade = Math.round(255 * (1 - Math.abs(t)));
      const [r, g, b] = t >= 0 ? [255, fade, fade] : [fade, fade, 255];
      image.data.set([r, g, b, 255], i * 4);
    });
    context.putImageData(image, 0, 0);
  }
  const norm = Math.sqrt(latent.reduce((sum, v) => sum + v * v, 0));
  return el(
    'div',
    { id: 'detail-latent' },
    el('h3', {}, `Latent z (${latent.length} values, |z| = ${norm.toFixed(2)})`),
    canvas,
    el(
      'details',
      {},
      el('summary', {}, 'Show the numbers'),
      el('p', { class: 'latent-values', id: 'latent-values' }, latent.map((v) => v.toFixed(3)).join(', ')),
    ),
  );
}
