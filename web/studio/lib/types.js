// @ts-check
// Shapes of the GraphQL results the pages share (each page selects a subset of these fields). Types only.

/** @typedef {{ dataUrl: string, width: number, height: number }} Image a generated or dataset image as a PNG data URL */
/** @typedef {{ url: string, width: number, height: number }} SampleImage a stored sample's image by its cacheable URL (Image.url) */
/** @typedef {{ width: number, height: number, channels: number }} ImageShape */
/** @typedef {{ name: string, className: string, outputShape: number[], neurons: number }} Layer a layer a probe or analysis can read */
/**
 * @typedef {{
 *   id: string, name: string, version: string, architecture: string, dataset: string,
 *   latentSize: number | null, imageShape: ImageShape, featureNetworkRole: string | null,
 *   featureLayers: Layer[], generatorLayers: Layer[], aliases: string[],
 * }} ModelInfo a model version as `models` lists it (aliases: "default" on the one a request naming no model serves)
 */
/** @typedef {{ id: string, index: number, modelId: string, latent: number[], image: SampleImage }} Sample */
/** A page module: mount(root) draws the page into root and returns what takes it down. */
/** @typedef {{ mount: (root: HTMLElement) => (() => void) | void | Promise<(() => void) | void> }} PageModule */

export {};
