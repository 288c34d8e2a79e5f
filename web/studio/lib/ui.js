// @ts-check
// Small DOM helpers shared by the pages: element building, errors in words, busy buttons, images.
import { describeError, getApiKey } from './api.js';

/**
 * Makes an element. props: attributes (false/null/undefined skip one, true sets it empty), `class`,
 * `dataset` (an object), `style` (an object), `on<Event>` handlers (onClick, onSubmit, ...), and the
 * properties `value`, `checked`, `selected`, `disabled`. Children: nodes, strings, numbers, arrays; null/false skipped.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : attributeText(value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name === 'style' && typeof value === 'object') Object.assign(node.style, value);
    else if (/^on[A-Z]/.test(name) && typeof value === 'function') node.addEventListener(name.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    // These four are properties (the live state), not attributes (the initial one).
    else if (name === 'value' || name === 'checked' || name === 'selected' || name === 'disabled')
      /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (node))[name] = value;
    else node.setAttribute(name, value === true ? '' : attributeText(value));
  }
  append(node, children);
  return node;
}

/**
 * An attribute's text: strings, numbers and booleans as String() writes them, anything else as JSON, never "[object Object]".
 * @param {unknown} value
 * @returns {string}
 */
function attributeText(value) {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

/** @typedef {Record<string, unknown>} Props attributes, `class` (a string or list), `dataset`, `style`, on<Event> handlers, properties */
/** @typedef {Node | string | number | boolean | null | undefined | ChildList} Child */
/** @typedef {Child[]} ChildList */

/**
 * @param {Element} node
 * @param {Child[]} children
 */
function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

/**
 * The element with `id`, checked to be a `type`: the markup the scripts rely on is fixed, so a miss is a bug.
 * @template {Element} T
 * @param {string} id
 * @param {new () => T} type
 * @param {ParentNode & NonElementParentNode} [scope]
 * @returns {T}
 */
export function byId(id, type, scope = document) {
  const found = scope.getElementById(id);
  if (!(found instanceof type)) throw new Error(`studio: expected #${id} to be a ${type.name}, got ${found === null ? 'nothing' : found.tagName}`);
  return found;
}

/**
 * The canvas's 2D context; every browser the studio runs in has one, so none is a bug.
 * @param {HTMLCanvasElement} canvas
 * @returns {CanvasRenderingContext2D}
 */
export function context2d(canvas) {
  const context = canvas.getContext('2d');
  if (!context) throw new Error('studio: this browser gives no 2D canvas context');
  return context;
}

/**
 * Text with `backticked` parts as <code>, for messages that name commands.
 * @param {string} text
 * @returns {Array<string | HTMLElement>}
 */
export function richText(text) {
  return String(text)
    .split('`')
    .map((part, i) => (i % 2 === 1 ? el('code', {}, part) : part));
}

/**
 * Shows `err` in words in `container`: one role="alert" element (replacing an earlier one), so screen
 * readers announce it. Returns the element.
 * @param {Element} container
 * @param {unknown} err
 * @returns {HTMLDivElement}
 */
export function showError(container, err) {
  clearError(container);
  const box = el('div', { class: 'error', role: 'alert' }, el('strong', {}, 'Error: '), richText(describeError(err)));
  if (err && typeof err === 'object' && 'code' in err && err.code) box.dataset.code = attributeText(err.code);
  // Under the container's heading when it starts with one, else first.
  const first = container.firstElementChild;
  if (first && /^H[1-6]$/.test(first.tagName)) first.after(box);
  else container.prepend(box);
  return box;
}

/**
 * Removes the error showError put in `container`, if any.
 * @param {Element} container
 */
export function clearError(container) {
  for (const box of container.querySelectorAll(':scope > .error[role="alert"]')) box.remove();
}

/**
 * Runs `promiseFn` with `button` disabled, aria-busy and a spinner with `label` (default: its text
 * followed by "..."). Resolves or rejects as promiseFn does; the button comes back as it was.
 * @template T
 * @param {HTMLButtonElement} button
 * @param {() => Promise<T>} promiseFn
 * @param {string} [label]
 * @returns {Promise<T>}
 */
export async function busy(button, promiseFn, label) {
  const before = [...button.childNodes];
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.replaceChildren(el('span', { class: 'spinner', 'aria-hidden': 'true' }), ` ${label ?? `${(button.textContent ?? '').trim()}...`}`);
  try {
    return await promiseFn();
  } finally {
    button.replaceChildren(...before);
    button.disabled = wasDisabled;
    button.removeAttribute('aria-busy');
  }
}

/**
 * An <img> of a PNG data URL, pixelated when scaled up (generated images are small).
 * @param {string} dataUrl
 * @param {string} alt
 * @param {Props} [props]
 * @returns {HTMLImageElement}
 */
export function imageFromDataUrl(dataUrl, alt, props = {}) {
  const { class: extra, ...rest } = props;
  return el('img', { src: dataUrl, alt, class: ['pixelated', extra], decoding: 'async', ...rest });
}

/**
 * An <img> of a stored sample's image URL (Image.url, "/images/<id>.png"; or a data URL pinned by an
 * older studio), pixelated like imageFromDataUrl. Without an API key the browser loads and caches it
 * itself. An <img> cannot send a key, so with one stored the PNG is fetched with the key (the HTTP
 * cache still answers repeats) and shown from a blob: URL, let go once decoded.
 * @param {string} url
 * @param {string} alt
 * @param {Props} [props]
 * @returns {HTMLImageElement}
 */
export function imageFromUrl(url, alt, props = {}) {
  const key = getApiKey();
  if (key === '' || url === '' || url.startsWith('data:')) return imageFromDataUrl(url, alt, props);
  const { class: extra, ...rest } = props;
  const img = el('img', { alt, class: ['pixelated', extra], decoding: 'async', ...rest });
  void (async () => {
    try {
      const response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const blobUrl = URL.createObjectURL(await response.blob());
      const release = () => URL.revokeObjectURL(blobUrl);
      img.addEventListener('load', release, { once: true });
      img.addEventListener('error', release, { once: true });
      img.src = blobUrl;
    } catch (error) {
      img.title = `Could not load this image (${error instanceof Error ? error.message : 'network error'})`;
      img.dataset.error = 'true';
    }
  })();
  return img;
}

/**
 * A status line for long work: a <progress> (indeterminate until set) and a text, in a role="status"
 * region. update(text, fraction?) changes both; done() removes it.
 * @param {Element} container
 * @param {string} text
 * @returns {Progress}
 */
export function progress(container, text) {
  const bar = el('progress', { max: '1' });
  const label = el('span', {}, text);
  const box = el('div', { class: 'progress', role: 'status' }, bar, label);
  container.append(box);
  return {
    element: box,
    /**
     * @param {string | undefined} nextText
     * @param {number} [fraction]
     */
    update(nextText, fraction) {
      if (nextText !== undefined) label.textContent = nextText;
      if (typeof fraction === 'number' && Number.isFinite(fraction)) bar.value = Math.min(1, Math.max(0, fraction));
    },
    done() {
      box.remove();
    },
  };
}

/** @typedef {{ element: HTMLDivElement, update: (text: string | undefined, fraction?: number) => void, done: () => void }} Progress */

/**
 * A labelled form field: <div class="field"><label for=id>text</label>control hint</div>.
 * @param {string} labelText
 * @param {HTMLElement} control
 * @param {Child} [hint]
 */
export function field(labelText, control, hint) {
  if (!control.id) control.id = uniqueId('field');
  const hintNode = hint ? el('small', { class: 'muted', id: `${control.id}-hint` }, hint) : null;
  if (hintNode) control.setAttribute('aria-describedby', hintNode.id);
  return el('div', { class: 'field' }, el('label', { for: control.id }, labelText), control, hintNode);
}

let counter = 0;
/**
 * An id unique in this page, e.g. "field-3".
 * @param {string} prefix
 */
export function uniqueId(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/**
 * A page heading section: <h1> and an optional lead paragraph.
 * @param {string} title
 * @param {Child} [lead]
 */
export function pageHeader(title, lead) {
  return el('header', { class: 'page-header' }, el('h1', {}, title), lead ? el('p', { class: 'muted' }, lead) : null);
}

/**
 * Model versions for a <select>: "name@version (architecture, dataset)".
 * @param {ReadonlyArray<{ id: string, architecture: string, dataset: string }>} models
 * @param {string | undefined} selectedId
 */
export function modelOptions(models, selectedId) {
  return models.map((m) => el('option', { value: m.id, selected: m.id === selectedId }, `${m.id} (${m.architecture}, ${m.dataset})`));
}
