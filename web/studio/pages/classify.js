// @ts-check
// Classify: draw a digit or drop a PNG; a K+1 model's K class probabilities and P(generated) (classify).
import { gql, onApiKeyChange } from '../lib/api.js';
import { busy, clearError, context2d, el, field, modelOptions, pageHeader, progress, showError } from '../lib/ui.js';
/** @import { Image as StudioImage, ImageShape } from '../lib/types.js' */

const MODELS = `query StudioClassifyModels { models { id name version architecture dataset imageShape { width height channels } } }`;

const CLASSIFY = `query StudioClassify($modelId: ID!, $images: [ImageInput!]!) {
  classify(modelId: $modelId, images: $images) {
    runId label labelIndex confidence generatedProbability
    probabilities { class probability }
  }
}`;
/**
 * @typedef {{
 *   runId: string, label: string, labelIndex: number, confidence: number, generatedProbability: number,
 *   probabilities: Array<{ class: string, probability: number }>,
 * }} Classification
 */
/** @typedef {{ id: string, name: string, version: string, architecture: string, dataset: string, imageShape: ImageShape }} ClassifyModel */

const ONE_SAMPLE = `query StudioClassifySample($modelId: ID) { samples(modelId: $modelId, count: 1) { id image { dataUrl width height } } }`;

/** Drawing canvas size in canvas pixels (the model's image is scaled down from it). */
const PAD = 280;
/** MNIST's preprocessing: the digit fits a 20x20 box, its centre of mass at the middle of the 28x28 image. */
const DIGIT_BOX = 20 / 28;

/** @type {{ modelId: string | undefined }} */
const state = { modelId: undefined };

/** @typedef {{ pixels: number[], width: number, height: number }} Pixels grayscale 0..255, row-major */

/** @param {HTMLElement} root */
export function mount(root) {
  /** @type {Array<() => void>} */
  const cleanups = [];
  /** @type {ClassifyModel[]} */
  let models = [];
  /**
   * What gets classified: a PNG (sent as it is) or the drawing (pixels from the pad).
   * @type {{ kind: 'png', dataUrl: string, name: string } | { kind: 'drawing' } | undefined}
   */
  let input;
  let drawn = false;

  const modelSelect = el('select', { name: 'modelId', id: 'classify-model' }, el('option', { value: '' }, 'Loading...'));
  const pad = el('canvas', {
    class: 'draw-canvas',
    id: 'draw-pad',
    width: String(PAD),
    height: String(PAD),
    role: 'img',
    'aria-label': 'Drawing pad: draw a digit with the mouse, a pen or a finger (white on black)',
  });
  const preview = el('canvas', {
    class: 'input-preview pixelated',
    id: 'input-preview',
    width: '28',
    height: '28',
    role: 'img',
    'aria-label': 'The image that will be classified',
  });
  const previewNote = el('p', { class: 'muted', id: 'input-note' }, 'Nothing yet: draw a digit or drop a PNG.');
  const fileInput = el('input', { type: 'file', id: 'png-file', accept: 'image/png,image/*' });
  const dropZone = el(
    'div',
    { class: 'drop-zone', id: 'drop-zone' },
    el('p', { style: { margin: 0 } }, el('strong', {}, 'Drop a PNG here'), ' or choose one:'),
    el('label', { for: 'png-file', class: 'visually-hidden' }, 'PNG file to classify'),
    fileInput,
    el(
      'p',
      { class: 'muted', style: { margin: 0 } },
      'A PNG of the model\u2019s size (28\u00d728 for MNIST) is sent exactly as it is; others are scaled to fit.',
    ),
    el('div', { class: 'row' }, el('figure', { style: { margin: 0 } }, preview, el('figcaption', { class: 'muted' }, 'Input')), previewNote),
  );
  const classifyButton = el('button', { type: 'submit', id: 'classify-button' }, 'Classify');
  const clearButton = el('button', { type: 'button', class: 'secondary', onClick: () => clearAll() }, 'Clear');
  const sampleButton = el('button', { type: 'button', class: 'secondary', id: 'use-sample' }, 'Use a generated digit');
  const form = el(
    'form',
    { class: 'panel', 'aria-labelledby': 'classify-input-heading' },
    el('h2', { id: 'classify-input-heading' }, 'Image'),
    el('div', { class: 'row' }, field('K+1 model version', modelSelect, 'One trained in KPLUSONE mode (semi-supervised): it has a classifier.')),
    el('div', { class: 'draw-area' }, pad, dropZone),
    el('div', { class: 'row', style: { marginTop: '0.75rem' } }, classifyButton, clearButton, sampleButton),
  );
  const results = el('section', { class: 'panel', id: 'classify-results', 'aria-labelledby': 'classify-results-heading', 'aria-live': 'polite' });

  root.append(
    el(
      'section',
      { class: 'page', id: 'classify-page' },
      pageHeader(
        'Classify',
        'The classifier of a semi-supervised K+1 GAN (Salimans et al. 2016): the K class probabilities of an image, and the probability that it was generated.',
      ),
      el('div', { class: 'columns' }, form, results),
    ),
  );

  const context = context2d(pad);
  const previewContext = context2d(preview);

  function clearPad() {
    context.fillStyle = '#000';
    context.fillRect(0, 0, PAD, PAD);
    drawn = false;
  }

  function clearAll() {
    clearPad();
    previewContext.fillStyle = '#000';
    previewContext.fillRect(0, 0, 28, 28);
    input = undefined;
    previewNote.textContent = 'Nothing yet: draw a digit or drop a PNG.';
    clearError(form);
  }

  function renderEmptyResults() {
    results.replaceChildren(
      el('h2', { id: 'classify-results-heading' }, 'Result'),
      el('p', { class: 'muted' }, 'Classify an image to see what the model says.'),
    );
  }

  // Drawing with pointer events (mouse, pen, touch alike).
  /** @type {{ x: number, y: number } | undefined} */
  let last;
  const point = (/** @type {PointerEvent} */ event) => {
    const box = pad.getBoundingClientRect();
    return { x: ((event.clientX - box.left) / box.width) * PAD, y: ((event.clientY - box.top) / box.height) * PAD };
  };
  pad.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    pad.setPointerCapture?.(event.pointerId);
    if (input?.kind === 'png') clearPad();
    last = point(event);
    stroke(last, last);
  });
  pad.addEventListener('pointermove', (event) => {
    if (!last) return;
    const next = point(event);
    stroke(last, next);
    last = next;
  });
  const end = () => {
    if (!last) return;
    last = undefined;
    input = { kind: 'drawing' };
    updatePreviewFromDrawing();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  pad.addEventListener('pointerleave', end);

  /**
   * @param {{ x: number, y: number }} from
   * @param {{ x: number, y: number }} to
   */
  function stroke(from, to) {
    context.strokeStyle = '#fff';
    context.lineWidth = PAD / 12;
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
    drawn = true;
  }

  function modelShape() {
    const model = models.find((m) => m.id === modelSelect.value);
    return model?.imageShape ?? { width: 28, height: 28, channels: 1 };
  }

  /**
   * The drawing as the model's input: MNIST-style box and centring, grayscale 0..255, row-major.
   * @returns {Pixels | undefined}
   */
  function drawingPixels() {
    const { width, height } = modelShape();
    const source = context.getImageData(0, 0, PAD, PAD).data;
    let minX = PAD,
      minY = PAD,
      maxX = -1,
      maxY = -1;
    for (let y = 0; y < PAD; y++) {
      for (let x = 0; x < PAD; x++) {
        if (source[(y * PAD + x) * 4] > 16) {
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
        }
      }
    }
    if (maxX < 0) return undefined;
    const boxW = maxX - minX + 1;
    const boxH = maxY - minY + 1;
    const scale = (DIGIT_BOX * Math.min(width, height)) / Math.max(boxW, boxH);
    /**
     * @param {number} dx
     * @param {number} dy
     */
    const draw = (dx, dy) => {
      const small = document.createElement('canvas');
      small.width = width;
      small.height = height;
      const c = context2d(small);
      c.fillStyle = '#000';
      c.fillRect(0, 0, width, height);
      c.imageSmoothingEnabled = true;
      c.imageSmoothingQuality = 'high';
      c.drawImage(pad, minX, minY, boxW, boxH, dx, dy, boxW * scale, boxH * scale);
      return c.getImageData(0, 0, width, height).data;
    };
    const x0 = (width - boxW * scale) / 2;
    const y0 = (height - boxH * scale) / 2;
    // Centre of mass of the box-fitted digit, then shift it to the middle.
    const first = draw(x0, y0);
    let mass = 0,
      mx = 0,
      my = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = first[(y * width + x) * 4];
        mass += v;
        mx += v * x;
        my += v * y;
      }
    }
    const shiftX = mass > 0 ? Math.round((width - 1) / 2 - mx / mass) : 0;
    const shiftY = mass > 0 ? Math.round((height - 1) / 2 - my / mass) : 0;
    const final = draw(x0 + shiftX, y0 + shiftY);
    /** @type {number[]} */
    const pixels = new Array(width * height);
    for (let i = 0; i < width * height; i++) pixels[i] = final[i * 4];
    return { pixels, width, height };
  }

  function updatePreviewFromDrawing() {
    const result = drawingPixels();
    if (!result) return;
    showPreviewPixels(result);
    previewNote.textContent = `Your drawing, scaled to ${result.width}\u00d7${result.height} with its centre of mass in the middle (as MNIST).`;
  }

  /** @param {Pixels} shown */
  function showPreviewPixels({ pixels, width, height }) {
    preview.width = width;
    preview.height = height;
    const image = previewContext.createImageData(width, height);
    pixels.forEach((v, i) => image.data.set([v, v, v, 255], i * 4));
    previewContext.putImageData(image, 0, 0);
  }

  /**
   * Takes a PNG (a File or a data URL): the model's size is sent as it is, any other size is drawn on the pad to fit.
   * @param {string} dataUrl
   * @param {string} name
   */
  async function usePng(dataUrl, name) {
    clearError(form);
    const image = new Image();
    image.src = dataUrl;
    try {
      await image.decode();
    } catch {
      showError(form, new Error(`${name} is not an image the browser can read`));
      return;
    }
    const { width, height } = modelShape();
    clearPad();
    context.imageSmoothingEnabled = false;
    const fit = Math.min(PAD / image.naturalWidth, PAD / image.naturalHeight);
    context.drawImage(image, (PAD - image.naturalWidth * fit) / 2, (PAD - image.naturalHeight * fit) / 2, image.naturalWidth * fit, image.naturalHeight * fit);
    context.imageSmoothingEnabled = true;
    if (image.naturalWidth === width && image.naturalHeight === height && /^data:image\/png;base64,/.test(dataUrl)) {
      input = { kind: 'png', dataUrl, name };
      preview.width = width;
      preview.height = height;
      previewContext.drawImage(image, 0, 0);
      previewNote.textContent = `${name}: ${width}\u00d7${height} PNG, sent as it is.`;
    } else {
      input = { kind: 'drawing' };
      drawn = true;
      updatePreviewFromDrawing();
      previewNote.textContent = `${name}: ${image.naturalWidth}\u00d7${image.naturalHeight}, scaled to ${width}\u00d7${height}.`;
    }
  }

  /**
   * @param {File} file
   * @returns {Promise<string>} its data URL
   */
  function readFile(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      // readAsDataURL: the result is a string.
      reader.onload = () => resolve(/** @type {string} */ (reader.result));
      reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
      reader.readAsDataURL(file);
    });
  }

  /** @param {File | undefined} file */
  async function useFile(file) {
    if (!file) return;
    try {
      await usePng(await readFile(file), file.name);
    } catch (error) {
      showError(form, error);
    }
  }

  fileInput.addEventListener('change', () => void useFile(fileInput.files?.[0]));
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('over');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('over');
    void useFile(event.dataTransfer?.files?.[0]);
  });
  // A file dropped on the pad is a file for the drop zone, not a page to open.
  pad.addEventListener('dragover', (event) => event.preventDefault());
  pad.addEventListener('drop', (event) => {
    event.preventDefault();
    void useFile(event.dataTransfer?.files?.[0]);
  });

  sampleButton.addEventListener('click', () => void useSample());
  form.addEventListener('submit', (event) => void onClassify(event));

  async function useSample() {
    clearError(form);
    try {
      const data = /** @type {{ samples: Array<{ id: string, image: StudioImage }> }} */ (
        await busy(sampleButton, () => gql(ONE_SAMPLE, { modelId: modelSelect.value || undefined }), 'Generating...')
      );
      const sample = data.samples[0];
      await usePng(sample.image.dataUrl, `Generated sample ${sample.id}`);
    } catch (error) {
      showError(form, error);
    }
  }

  /** @param {SubmitEvent} event */
  async function onClassify(event) {
    event.preventDefault();
    clearError(form);
    state.modelId = modelSelect.value;
    /** @type {{ png: string } | { pixels: number[] } | undefined} */
    let image;
    if (input?.kind === 'png') image = { png: input.dataUrl };
    else if (input?.kind === 'drawing' && drawn) {
      const result = drawingPixels();
      if (result) image = { pixels: result.pixels };
    }
    if (!image) {
      showError(form, new Error('there is nothing to classify yet: draw a digit on the pad, or drop or choose a PNG'));
      return;
    }
    const status = progress(form, 'Classifying...');
    try {
      const data = /** @type {{ classify: Classification[] }} */ (
        await busy(classifyButton, () => gql(CLASSIFY, { modelId: modelSelect.value, images: [image] }), 'Classifying...')
      );
      renderResult(data.classify[0]);
    } catch (error) {
      showError(form, error);
    } finally {
      status.done();
    }
  }

  /** @param {Classification} result */
  function renderResult(result) {
    const real = 1 - result.generatedProbability;
    // p(y | x, y <= K): the class entries of the K+1 softmax renormalised over the K real classes.
    const conditional = result.probabilities.map((p) => ({ ...p, value: real > 0 ? p.probability / real : 1 / result.probabilities.length }));
    // One decimal, without rounding a tiny chance to 0% or a near-certainty to 100%.
    const percent = (/** @type {number} */ v) => (v > 0 && v < 0.0005 ? '<0.1%' : v < 1 && v > 0.9995 ? '>99.9%' : `${(100 * v).toFixed(1)}%`);
    results.replaceChildren(
      el('h2', { id: 'classify-results-heading' }, 'Result'),
      el(
        'p',
        { class: 'verdict', id: 'classify-verdict' },
        'Class ',
        el('strong', { id: 'classify-label' }, result.label),
        ` with ${percent(result.confidence)} confidence among the ${conditional.length} classes.`,
      ),
      el(
        'p',
        { id: 'generated-probability', dataset: { value: String(result.generatedProbability) } },
        el('strong', {}, 'P(generated) = ', percent(result.generatedProbability)),
        ': the K+1 discriminator\u2019s probability that the image was made by a generator rather than drawn from real data.',
        el('br'),
        el('meter', { min: '0', max: '1', value: String(result.generatedProbability), 'aria-label': 'Probability that the image was generated' }),
      ),
      el('h3', {}, 'Class probabilities p(y | x, real)'),
      el(
        'ol',
        { class: 'probs', id: 'class-probabilities', 'aria-label': 'Probability of each class' },
        ...conditional.map((p, i) =>
          el(
            'li',
            { class: i === result.labelIndex ? 'top' : undefined, dataset: { class: p.class, probability: String(p.value), raw: String(p.probability) } },
            el('span', {}, p.class),
            el('span', { class: 'bar', 'aria-hidden': 'true' }, el('span', { style: { width: `${Math.max(0, Math.min(100, 100 * p.value))}%` } })),
            el('span', { class: 'value' }, percent(p.value)),
          ),
        ),
      ),
      el(
        'p',
        { class: 'muted' },
        `They sum to 1; the model\u2019s raw K+1 outputs are these times ${real.toFixed(3)}, plus P(generated). Run ${result.runId}.`,
      ),
    );
  }

  clearAll();
  renderEmptyResults();

  async function loadModels() {
    try {
      const data = /** @type {{ models: ClassifyModel[] }} */ (await gql(MODELS));
      clearError(form);
      models = data.models;
      const preferred = models.find((m) => m.id === state.modelId) ?? models.find((m) => /kplusone/i.test(m.name)) ?? models[0];
      modelSelect.replaceChildren(...(models.length === 0 ? [el('option', { value: '' }, 'No model loaded')] : modelOptions(models, preferred?.id)));
    } catch (error) {
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
