// @ts-check
// Samples a person pinned as exemplars (in the gallery) for the latent explorer: kept in localStorage
// by id, with the model and the image so they show without asking the server again.

const STORAGE = 'ganql.pins';
/** Most pins kept; the oldest goes first. */
export const MAX_PINS = 64;

/** @typedef {{ id: string, modelId: string, src: string, label?: string }} Pin `src`: the sample's image URL (a data URL in pins of older studios) */

/** @type {Pin[]} */
let memory = [];

/** @returns {Pin[]} oldest first */
export function getPins() {
  try {
    const raw = localStorage.getItem(STORAGE);
    const parsed = /** @type {unknown} */ (raw ? JSON.parse(raw) : []);
    return Array.isArray(parsed) ? parsed.map(upgrade).filter(isPin) : [];
  } catch {
    return memory.slice();
  }
}

/**
 * Older studios kept the image as `dataUrl`; it still shows as the pin's `src`.
 * @param {unknown} p
 * @returns {unknown}
 */
function upgrade(p) {
  if (typeof p !== 'object' || p === null || 'src' in p || !('dataUrl' in p)) return p;
  const { dataUrl, ...rest } = /** @type {Record<string, unknown>} */ (p);
  return { ...rest, src: dataUrl };
}

/**
 * Storage is shared with other tabs and older studio versions: keep only well-formed pins.
 * @param {unknown} p
 * @returns {p is Pin}
 */
function isPin(p) {
  if (typeof p !== 'object' || p === null) return false;
  const { id, modelId, src } = /** @type {Record<string, unknown>} */ (p);
  return typeof id === 'string' && typeof modelId === 'string' && typeof src === 'string';
}

/** @param {Pin[]} pins */
function save(pins) {
  memory = pins.slice(-MAX_PINS);
  try {
    localStorage.setItem(STORAGE, JSON.stringify(memory));
  } catch {
    // Storage off or full: the pins live for this page only.
  }
  window.dispatchEvent(new CustomEvent('ganql:pins', { detail: { count: memory.length } }));
}

/** @param {string} id */
export function isPinned(id) {
  return getPins().some((p) => p.id === id);
}

/**
 * Pins a sample (no-op if pinned already).
 * @param {Pin} sample
 */
export function pin(sample) {
  const pins = getPins();
  if (pins.some((p) => p.id === sample.id)) return;
  pins.push({ id: sample.id, modelId: sample.modelId, src: sample.src, label: sample.label });
  save(pins);
}

/** @param {string} id */
export function unpin(id) {
  save(getPins().filter((p) => p.id !== id));
}

export function clearPins() {
  save([]);
}

/**
 * Calls `listener(pins)` on every change, from any page or tab; returns the function that stops it.
 * @param {(pins: Pin[]) => void} listener
 */
export function onPinsChange(listener) {
  const local = () => listener(getPins());
  /** @param {StorageEvent} event */
  const other = (event) => {
    if (event.key === STORAGE) listener(getPins());
  };
  window.addEventListener('ganql:pins', local);
  window.addEventListener('storage', other);
  return () => {
    window.removeEventListener('ganql:pins', local);
    window.removeEventListener('storage', other);
  };
}
