// Samples a person pinned as exemplars (in the gallery) for the latent explorer: kept in localStorage
// by id, with the model and the image so they show without asking the server again.

const STORAGE = 'ganql.pins';
/** Most pins kept; the oldest goes first. */
export const MAX_PINS = 64;

/** @typedef {{ id: string, modelId: string, dataUrl: string, label?: string }} Pin */

let memory = [];

/** @returns {Pin[]} oldest first */
export function getPins() {
  try {
    const raw = localStorage.getItem(STORAGE);
    const parsed = raw ? JSON.parse(raw) : [];
    return Array.isArray(parsed) ? parsed.filter((p) => typeof p?.id === 'string' && typeof p?.modelId === 'string' && typeof p?.dataUrl === 'string') : [];
  } catch {
    return memory.slice();
  }
}

function save(pins) {
  memory = pins.slice(-MAX_PINS);
  try {
    localStorage.setItem(STORAGE, JSON.stringify(memory));
  } catch {
    // Storage off or full: the pins live for this page only.
  }
  window.dispatchEvent(new CustomEvent('ganql:pins', { detail: { count: memory.length } }));
}

export function isPinned(id) {
  return getPins().some((p) => p.id === id);
}

/** Pins a sample (no-op if pinned already). */
export function pin(sample) {
  const pins = getPins();
  if (pins.some((p) => p.id === sample.id)) return;
  pins.push({ id: sample.id, modelId: sample.modelId, dataUrl: sample.dataUrl, label: sample.label });
  save(pins);
}

export function unpin(id) {
  save(getPins().filter((p) => p.id !== id));
}

export function clearPins() {
  save([]);
}

/** Calls `listener(pins)` on every change, from any page or tab; returns the function that stops it. */
export function onPinsChange(listener) {
  const local = () => listener(getPins());
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
