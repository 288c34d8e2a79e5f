// @ts-check
// The studio shell: hash routes to page modules, the API key setting in the header.
import { getApiKey, onApiKeyChange, setApiKey } from './lib/api.js';
import { byId, el, showError } from './lib/ui.js';
/** @import { PageModule } from './lib/types.js' */

/**
 * Route name -> page title; each is pages/<name>.js exporting mount(root) -> unmount.
 * @type {Readonly<Record<string, string>>}
 */
export const PAGES = {
  gallery: 'Gallery',
  latent: 'Latent',
  classify: 'Classify',
  features: 'Features',
  training: 'Training',
  evaluation: 'Evaluation',
};
const DEFAULT_PAGE = 'gallery';

const root = byId('page', HTMLDivElement);
/** @type {{ name: string | undefined, unmount: (() => void) | undefined }} */
let current = { name: undefined, unmount: undefined };
// Bumped on every navigation, so a slow import that lost the race does not mount over a newer page.
let generation = 0;

/**
 * "#/latent", "#/training/abc" or "#/training?job=abc" -> "latent" / "training"; undefined for other hashes.
 * @param {string} hash
 */
export function pageOf(hash) {
  const match = /^#\/([a-z]*)/.exec(hash);
  if (!match) return undefined;
  return match[1] === '' ? DEFAULT_PAGE : match[1];
}

/** @param {string} name */
function markNav(name) {
  for (const link of document.querySelectorAll('.nav a[data-page]')) {
    if (!(link instanceof HTMLElement)) continue;
    if (link.dataset.page === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function route() {
  const hash = location.hash;
  let name = pageOf(hash);
  // In-page anchors (#main) are not routes: the page stays.
  if (name === undefined && hash !== '' && current.name !== undefined) return;
  if (name === undefined) name = DEFAULT_PAGE;
  // The page owns the rest of its hash (e.g. #/training/<id>): it listens to hashchange itself.
  if (name === current.name) return;
  const mine = ++generation;
  try {
    current.unmount?.();
  } catch (error) {
    console.error('unmount failed', error);
  }
  current = { name, unmount: undefined };
  markNav(name);
  const title = PAGES[name];
  if (title === undefined) {
    document.title = 'ganql studio - Not found';
    root.replaceChildren(
      el(
        'section',
        { class: 'page' },
        el('h1', {}, 'Page not found'),
        el('p', {}, 'No studio page is called ', el('code', {}, name), '. ', el('a', { href: '#/gallery' }, 'Open the gallery'), '.'),
      ),
    );
    focusHeading();
    return;
  }
  document.title = `ganql studio - ${title}`;
  root.setAttribute('aria-busy', 'true');
  root.replaceChildren(el('p', { class: 'muted', role: 'status' }, `Loading ${title}...`));
  try {
    const module = /** @type {PageModule} */ (await import(`./pages/${name}.js`));
    if (mine !== generation) return;
    root.replaceChildren();
    const unmount = await module.mount(root);
    if (mine !== generation) {
      if (typeof unmount === 'function') unmount();
      return;
    }
    current.unmount = typeof unmount === 'function' ? unmount : undefined;
  } catch (error) {
    if (mine !== generation) return;
    console.error(error);
    root.replaceChildren(el('section', { class: 'page' }, el('h1', {}, title)));
    showError(
      /** @type {Element} */ (root.firstElementChild),
      error instanceof Error ? new Error(`the ${title} page could not be loaded (${error.message})`) : error,
    );
  } finally {
    if (mine === generation) root.removeAttribute('aria-busy');
  }
  if (mine === generation) focusHeading();
}

function focusHeading() {
  const heading = root.querySelector('h1');
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus({ preventScroll: false });
}

function wireSettings() {
  const form = byId('settings-form', HTMLFormElement);
  const input = byId('api-key', HTMLInputElement);
  const clear = byId('api-key-clear', HTMLButtonElement);
  const state = byId('key-state', HTMLSpanElement);
  const status = byId('settings-status', HTMLParagraphElement);
  const show = () => {
    const key = getApiKey();
    state.textContent = key ? 'key set' : 'no key';
    state.classList.toggle('on', key !== '');
    input.value = key;
  };
  const details = byId('settings', HTMLDetailsElement);
  const summary = /** @type {HTMLElement} */ (details.querySelector('summary'));
  const close = () => {
    if (!details.open) return;
    details.open = false;
    summary.focus();
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    setApiKey(input.value);
    status.textContent = input.value.trim() ? 'Key saved: requests now send it.' : 'No key: requests are anonymous.';
    // The badge in the summary says "key set"; the panel closes so it does not cover the page.
    close();
  });
  details.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });
  document.addEventListener('click', (event) => {
    if (details.open && !(event.target instanceof Node && details.contains(event.target))) details.open = false;
  });
  clear.addEventListener('click', () => {
    setApiKey('');
    status.textContent = 'Key cleared: requests are anonymous.';
    input.focus();
  });
  onApiKeyChange(show);
  window.addEventListener('storage', (event) => {
    if (event.key === 'ganql.apiKey') show();
  });
  show();
}

function wireSkipLink() {
  const link = document.querySelector('.skip-link');
  link?.addEventListener('click', (event) => {
    event.preventDefault();
    byId('main', HTMLElement).focus();
  });
}

wireSettings();
wireSkipLink();
// The page was opened as /studio: make it /studio/ (same document) so links and reloads agree with <base>.
if (location.pathname === '/studio') history.replaceState(null, '', `/studio/${location.search}${location.hash}`);
window.addEventListener('hashchange', () => void route());
void route();
