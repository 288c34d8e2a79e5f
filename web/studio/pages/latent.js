// @ts-check
// Latent explorer: a walk between two pinned samples (interpolate) and concept arithmetic on pinned
// exemplars (latentArithmetic: mean of each concept's exemplars, A - B + C, a 3x3 box of the result and its noisy neighbours).
import { gql } from '../lib/api.js';
import { getPins, onPinsChange } from '../lib/pins.js';
import { busy, clearError, el, field, imageFromUrl, pageHeader, progress, showError, uniqueId } from '../lib/ui.js';
/** @import { SampleImage } from '../lib/types.js' */

const INTERPOLATE = `query StudioWalk($modelId: ID, $from: LatentRefInput!, $to: LatentRefInput!, $steps: Int!, $method: InterpolationMethod!) {
  interpolate(modelId: $modelId, from: $from, to: $to, steps: $steps, method: $method) {
    runId method
    samples { id modelId index image { url width height } }
  }
}`;
/** @typedef {{ interpolate: { runId: string, method: string, samples: Array<{ id: string, modelId: string, index: number, image: SampleImage }> } }} WalkResult */

const ARITHMETIC = `query StudioArithmetic($modelId: ID, $terms: [ConceptTermInput!]!, $neighbours: Int!, $noise: Float!, $seed: Int) {
  latentArithmetic(modelId: $modelId, terms: $terms, neighbours: $neighbours, noise: $noise, seed: $seed) {
    runId seed
    result { id image { url width height } }
    neighbours { id image { url width height } }
    concepts { coefficient exemplarCount mean { id image { url } } }
  }
}`;
/**
 * @typedef {{
 *   runId: string, seed: number, result: { id: string, image: SampleImage }, neighbours: Array<{ id: string, image: SampleImage }>,
 *   concepts: Array<{ coefficient: number, exemplarCount: number, mean: { id: string, image: { url: string } } }>,
 * }} Arithmetic
 */

/** @typedef {'A' | 'B' | 'C'} Concept */
/** @type {readonly Concept[]} */
const CONCEPTS = ['A', 'B', 'C'];
/** The DCGAN paper's recipe: three exemplars per concept, A - B + C, 8 neighbours at noise 0.25. */
/** @type {Readonly<Record<Concept, string>>} */
const DEFAULT_COEFFICIENTS = { A: '1', B: '-1', C: '1' };

/**
 * Kept across visits to the page: the concepts being built and the last results.
 * @type {{ modelId: string | undefined, from: string | undefined, to: string | undefined, steps: string, method: string, concepts: Record<Concept, string[]>, coefficients: Record<Concept, string>, noise: string, seed: string }}
 */
const state = {
  modelId: undefined,
  from: undefined,
  to: undefined,
  steps: '8',
  method: 'SLERP',
  concepts: { A: [], B: [], C: [] },
  coefficients: { ...DEFAULT_COEFFICIENTS },
  noise: '0.25',
  seed: '1',
};

/** @param {string} value */
function optionalNumber(value) {
  const text = value.trim();
  return text === '' ? undefined : Number(text);
}

/**
 * " - 1 B" style text of a term, for the button and the result caption.
 * @param {Partial<Record<Concept, string>>} coefficients
 */
function formula(coefficients) {
  return CONCEPTS.map((name, i) => {
    const c = Number(coefficients[name]);
    if (!Number.isFinite(c) || c === 0) return '';
    const sign = c < 0 ? ' − ' : i === 0 ? '' : ' + ';
    const size = Math.abs(c) === 1 ? '' : `${Math.abs(c)}·`;
    return `${sign}${size}${name}`;
  })
    .join('')
    .replace(/^ \+ /, '')
    .trim();
}

/** @param {HTMLElement} root */
export function mount(root) {
  /** @type {Array<() => void>} */
  const cleanups = [];
  const pinsOfModel = () => getPins().filter((p) => p.modelId === state.modelId);
  const pinNumber = (/** @type {string | undefined} */ id) => getPins().findIndex((p) => p.id === id) + 1;

  const modelSelect = el('select', { name: 'modelId', id: 'latent-model' });
  const modelPanel = el(
    'div',
    { class: 'panel', id: 'latent-model-panel' },
    el('div', { class: 'row' }, field('Model version of the pins', modelSelect, 'Walks and concepts use the pins of one model.')),
    el('p', { class: 'muted', id: 'latent-pins-note' }),
  );

  // Walk.
  const fromGroup = el('fieldset', { class: 'pick', id: 'walk-from' });
  const toGroup = el('fieldset', { class: 'pick', id: 'walk-to' });
  const stepsInput = el('input', { name: 'steps', type: 'number', inputmode: 'numeric', step: '1', value: state.steps });
  const methodGroup = el(
    'fieldset',
    { class: 'field' },
    el('legend', {}, 'Method'),
    ...['SLERP', 'LINEAR'].map((method) =>
      el(
        'label',
        {},
        el('input', { type: 'radio', name: 'method', value: method, checked: state.method === method, onChange: () => (state.method = method) }),
        method === 'SLERP' ? ' Slerp (great circle)' : ' Linear',
      ),
    ),
  );
  const walkButton = el('button', { type: 'submit' }, 'Walk');
  const walkStrip = el('ol', { class: 'strip', id: 'walk-strip', 'aria-label': 'The walk, from the first pin to the second' });
  const walkStatus = el('p', { class: 'muted', id: 'walk-status', role: 'status' });
  const walkForm = el(
    'form',
    { class: 'panel', 'aria-labelledby': 'walk-heading' },
    el('h2', { id: 'walk-heading' }, 'Walk between two pins'),
    el('div', { class: 'pick-pair' }, fromGroup, toGroup),
    el('div', { class: 'row' }, field('Steps', stepsInput, '2..64, ends included'), methodGroup, walkButton),
    walkStatus,
    walkStrip,
  );

  // Arithmetic.
  const palette = el('ul', { class: 'pins', id: 'arith-palette', 'aria-label': 'Pins to add to a concept' });
  const conceptBoxes = /** @type {Record<Concept, HTMLUListElement>} */ (
    Object.fromEntries(CONCEPTS.map((name) => [name, el('ul', { class: 'pins', id: `concept-${name}`, 'aria-label': `Exemplars of concept ${name}` })]))
  );
  const coefficientInputs = /** @type {Record<Concept, HTMLInputElement>} */ (
    Object.fromEntries(
      CONCEPTS.map((name) => [
        name,
        el('input', {
          type: 'number',
          step: 'any',
          name: `coefficient-${name}`,
          id: `coefficient-${name}`,
          value: state.coefficients[name],
          onInput: (/** @type {InputEvent} */ event) => {
            state.coefficients[name] = /** @type {HTMLInputElement} */ (event.target).value;
            renderFormula();
          },
        }),
      ]),
    )
  );
  const noiseInput = el('input', { name: 'noise', type: 'number', step: 'any', value: state.noise });
  const seedInput = el('input', { name: 'arith-seed', type: 'number', inputmode: 'numeric', step: '1', value: state.seed, placeholder: 'random' });
  const computeButton = el('button', { type: 'submit', id: 'arith-compute' }, 'Compute');
  const arithResult = el('div', { id: 'arith-result', class: 'arith-result', 'aria-live': 'polite' });
  const arithForm = el(
    'form',
    { class: 'panel', 'aria-labelledby': 'arith-heading' },
    el('h2', { id: 'arith-heading' }, 'Concept arithmetic'),
    el(
      'p',
      { class: 'muted' },
      'Each concept is the mean latent of its exemplars (three, as in DCGAN); the result is the weighted sum, shown in the centre of a 3×3 box of its noisy neighbours.',
    ),
    el('h3', {}, 'Pins: add each to a concept'),
    palette,
    el(
      'div',
      { class: 'concepts' },
      ...CONCEPTS.map((name) =>
        el(
          'section',
          { class: 'concept', 'aria-labelledby': `concept-${name}-heading` },
          el(
            'div',
            { class: 'concept-head' },
            el('h3', { id: `concept-${name}-heading` }, `Concept ${name}`),
            el('label', { for: `coefficient-${name}` }, 'coefficient'),
            coefficientInputs[name],
          ),
          conceptBoxes[name],
        ),
      ),
    ),
    el(
      'div',
      { class: 'row' },
      field('Noise', noiseInput, '0..2 (paper: 0.25)'),
      field('Seed', seedInput, 'Of the neighbour noise; blank: random'),
      computeButton,
    ),
    arithResult,
  );

  const page = el(
    'section',
    { class: 'page', id: 'latent-page' },
    pageHeader('Latent explorer', 'Walk between pinned samples and add and subtract concepts made of pinned exemplars. Pin samples in the Gallery.'),
    modelPanel,
    walkForm,
    arithForm,
  );
  root.append(page);

  function modelsWithPins() {
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const p of getPins()) counts.set(p.modelId, (counts.get(p.modelId) ?? 0) + 1);
    return counts;
  }

  function renderModels() {
    const counts = modelsWithPins();
    if (state.modelId === undefined || !counts.has(state.modelId)) state.modelId = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    modelSelect.replaceChildren(
      ...(counts.size === 0
        ? [el('option', { value: '' }, 'No pins yet')]
        : [...counts.entries()].map(([id, n]) => el('option', { value: id, selected: id === state.modelId }, `${id} (${n} pinned)`))),
    );
    modelSelect.disabled = counts.size === 0;
    const note = /** @type {HTMLElement} */ (page.querySelector('#latent-pins-note'));
    note.replaceChildren(
      ...(counts.size === 0
        ? ['Nothing is pinned yet. ', el('a', { href: '#/gallery' }, 'Pin samples in the Gallery'), ' (choose a sample, then Pin as exemplar).']
        : [`${pinsOfModel().length} pins of this model.`]),
    );
  }

  /**
   * @param {HTMLFieldSetElement} group
   * @param {string} legend
   * @param {string | undefined} chosen
   * @param {(id: string) => void} onPick
   */
  function pickGroup(group, legend, chosen, onPick) {
    const pins = pinsOfModel();
    const name = uniqueId('pick');
    group.replaceChildren(
      el('legend', {}, legend),
      ...(pins.length === 0
        ? [el('p', { class: 'muted' }, 'No pins.')]
        : pins.map((p) =>
            el(
              'label',
              { class: 'pick-option' },
              el('input', { type: 'radio', name, value: p.id, checked: p.id === chosen, onChange: () => onPick(p.id) }),
              imageFromUrl(p.src, `Pin ${pinNumber(p.id)}`),
            ),
          )),
    );
  }

  function renderWalkPicks() {
    const ids = pinsOfModel().map((p) => p.id);
    if (state.from === undefined || !ids.includes(state.from)) state.from = ids[0];
    if (state.to === undefined || !ids.includes(state.to)) state.to = ids.find((id) => id !== state.from) ?? ids[0];
    pickGroup(fromGroup, 'From', state.from, (id) => (state.from = id));
    pickGroup(toGroup, 'To', state.to, (id) => (state.to = id));
    walkButton.disabled = ids.length < 2;
    walkStatus.textContent = ids.length < 2 ? 'Pin at least two samples of this model to walk between them.' : '';
  }

  function renderPalette() {
    const pins = pinsOfModel();
    palette.replaceChildren(
      ...(pins.length === 0
        ? [el('li', { class: 'muted' }, 'No pins.')]
        : pins.map((p) => {
            const n = pinNumber(p.id);
            return el(
              'li',
              { class: 'pin', dataset: { sampleId: p.id } },
              imageFromUrl(p.src, `Pin ${n}`),
              el(
                'div',
                { class: 'row' },
                ...CONCEPTS.map((name) =>
                  el(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary small',
                      'aria-label': `Add pin ${n} to concept ${name}`,
                      'aria-pressed': String(state.concepts[name].includes(p.id)),
                      dataset: { concept: name },
                      onClick: () => toggleExemplar(name, p.id),
                    },
                    name,
                  ),
                ),
              ),
            );
          })),
    );
  }

  function renderConcepts() {
    const pinned = new Set(pinsOfModel().map((p) => p.id));
    for (const name of CONCEPTS) {
      state.concepts[name] = state.concepts[name].filter((id) => pinned.has(id));
      const ids = state.concepts[name];
      const pins = getPins();
      conceptBoxes[name].replaceChildren(
        ...(ids.length === 0
          ? [el('li', { class: 'muted' }, 'Add pins with the buttons above.')]
          : ids.map((id) => {
              const p = pins.find((x) => x.id === id);
              const n = pinNumber(id);
              return el(
                'li',
                { class: 'pin', dataset: { sampleId: id } },
                imageFromUrl(p?.src ?? '', `Pin ${n} in concept ${name}`),
                el(
                  'button',
                  { type: 'button', class: 'secondary small', 'aria-label': `Remove pin ${n} from concept ${name}`, onClick: () => toggleExemplar(name, id) },
                  'Remove',
                ),
              );
            })),
      );
    }
    renderFormula();
  }

  function renderFormula() {
    const used = CONCEPTS.filter((name) => state.concepts[name].length > 0);
    const text = formula(Object.fromEntries(used.map((name) => [name, state.coefficients[name]])));
    computeButton.textContent = text ? `Compute ${text}` : 'Compute';
    computeButton.disabled = used.length === 0;
  }

  /**
   * @param {Concept} name
   * @param {string} id
   */
  function toggleExemplar(name, id) {
    const list = state.concepts[name];
    state.concepts[name] = list.includes(id) ? list.filter((x) => x !== id) : [...list, id];
    renderConcepts();
    for (const button of palette.querySelectorAll(`li[data-sample-id="${CSS.escape(id)}"] button[data-concept="${name}"]`)) {
      button.setAttribute('aria-pressed', String(state.concepts[name].includes(id)));
    }
  }

  function renderAll() {
    renderModels();
    renderWalkPicks();
    renderPalette();
    renderConcepts();
  }

  modelSelect.addEventListener('change', () => {
    state.modelId = modelSelect.value;
    renderAll();
  });

  walkForm.addEventListener('submit', (event) => void onWalk(event));
  arithForm.addEventListener('submit', (event) => void onCompute(event));

  /** @param {SubmitEvent} event */
  async function onWalk(event) {
    event.preventDefault();
    clearError(walkForm);
    state.steps = stepsInput.value;
    const steps = optionalNumber(stepsInput.value) ?? 8;
    const status = progress(walkForm, `Walking ${steps} steps...`);
    try {
      const data = /** @type {WalkResult} */ (
        await busy(
          walkButton,
          () => gql(INTERPOLATE, { modelId: state.modelId, from: { sampleId: state.from }, to: { sampleId: state.to }, steps, method: state.method }),
          'Walking...',
        )
      );
      const walk = data.interpolate;
      const last = walk.samples.length - 1;
      walkStrip.replaceChildren(
        ...walk.samples.map((s, i) =>
          el(
            'li',
            {},
            imageFromUrl(s.image.url, `Step ${i + 1} of ${walk.samples.length}`, { dataset: { sampleId: s.id } }),
            `t=${(last === 0 ? 0 : i / last).toFixed(2)}`,
          ),
        ),
      );
      walkStatus.textContent = `${walk.method === 'SLERP' ? 'Slerp' : 'Linear'} walk of ${walk.samples.length} images from pin ${pinNumber(state.from)} to pin ${pinNumber(state.to)}.`;
    } catch (error) {
      showError(walkForm, error);
    } finally {
      status.done();
    }
  }

  /** @param {SubmitEvent} event */
  async function onCompute(event) {
    event.preventDefault();
    clearError(arithForm);
    state.noise = noiseInput.value;
    state.seed = seedInput.value;
    const used = CONCEPTS.filter((name) => state.concepts[name].length > 0);
    const terms = used.map((name) => ({
      coefficient: optionalNumber(coefficientInputs[name].value) ?? 0,
      exemplars: state.concepts[name].map((sampleId) => ({ sampleId })),
    }));
    const status = progress(arithForm, 'Computing the concept means and the result...');
    try {
      const data = /** @type {{ latentArithmetic: Arithmetic }} */ (
        await busy(
          computeButton,
          () =>
            gql(ARITHMETIC, {
              modelId: state.modelId,
              terms,
              neighbours: 8,
              noise: optionalNumber(noiseInput.value) ?? 0.25,
              seed: optionalNumber(seedInput.value),
            }),
          'Computing...',
        )
      );
      renderArithmetic(data.latentArithmetic, used);
    } catch (error) {
      showError(arithForm, error);
    } finally {
      status.done();
    }
  }

  /**
   * @param {Arithmetic} result
   * @param {Concept[]} used
   */
  function renderArithmetic(result, used) {
    // The paper's figure: the result in the centre, its 8 noisy neighbours around it.
    const around = result.neighbours;
    const box = [
      ...around.slice(0, 4).map((s) => ({ s, centre: false })),
      { s: result.result, centre: true },
      ...around.slice(4).map((s) => ({ s, centre: false })),
    ];
    /** @type {HTMLElement[]} */
    const means = [];
    result.concepts.forEach((concept, i) => {
      const name = used[i];
      const c = concept.coefficient;
      const sign = c < 0 ? '−' : i === 0 ? '' : '+';
      if (sign) means.push(el('span', { 'aria-hidden': 'true' }, sign));
      means.push(
        el(
          'figure',
          {},
          imageFromUrl(concept.mean.image.url, `Mean of concept ${name} (${concept.exemplarCount} exemplars), coefficient ${c}`),
          el('figcaption', {}, `${Math.abs(c) === 1 ? '' : `${Math.abs(c)}·`}${name} (mean of ${concept.exemplarCount})`),
        ),
      );
    });
    means.push(el('span', { 'aria-hidden': 'true' }, '='));
    means.push(el('figure', {}, imageFromUrl(result.result.image.url, 'Result'), el('figcaption', {}, 'result')));
    arithResult.replaceChildren(
      el('div', {}, el('h3', {}, 'Concept means'), el('div', { class: 'means', id: 'arith-means' }, ...means)),
      el(
        'div',
        {},
        el('h3', {}, 'Result and neighbours'),
        el(
          'div',
          { class: 'box3', id: 'arith-box', role: 'group', 'aria-label': `Result in the centre, ${around.length} noisy neighbours around it` },
          ...box.map(({ s, centre }, i) =>
            imageFromUrl(s.image.url, centre ? 'Result' : `Neighbour ${i < 4 ? i + 1 : i}`, {
              class: centre ? 'centre' : undefined,
              dataset: { sampleId: s.id },
            }),
          ),
        ),
        el('p', { class: 'muted' }, `Neighbour noise seed ${result.seed}.`),
      ),
    );
  }

  cleanups.push(onPinsChange(renderAll));
  renderAll();
  return () => {
    for (const cleanup of cleanups) cleanup();
  };
}
