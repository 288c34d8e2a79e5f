import type { ModelManifest } from '../models/manifest';
import type { ReferenceDataset } from './reference-datasets';
import type { ScorerEntry } from './scorer-catalog';

/**
 * Why `scorer` cannot score the images of a model, or undefined when it can:
 * - it must take the model's channels (grayscale is tiled for an RGB scorer; sizes are resized);
 * - a scorer trained on another dataset ganql serves (say Fashion-MNIST for a digit model) is
 *   refused: its classes say nothing about the model's images. A general-purpose scorer (a
 *   dataset ganql does not serve, e.g. an ImageNet Inception v3 as in the paper) fits any model;
 * - a scorer of a dataset ganql serves must have that dataset's number of classes.
 * `datasets` looks up the datasets ganql serves.
 */
export function scorerMisfit(
  scorer: ScorerEntry,
  model: { id: string; manifest: Pick<ModelManifest, 'dataset' | 'imageShape'> },
  datasets: (name: string) => ReferenceDataset | undefined,
): string | undefined {
  const m = scorer.manifest;
  const name = JSON.stringify(scorer.name);
  const channels = model.manifest.imageShape[2];
  const scorerChannels = m.inputShape[2];
  if (channels !== scorerChannels && !(channels === 1 && scorerChannels === 3)) {
    return `expected a scorer taking ${channels}-channel images like model ${model.id}, got ${name} taking ${m.inputShape.join('x')}`;
  }
  const scorerDataset = datasets(m.dataset);
  if (scorerDataset && m.dataset !== model.manifest.dataset) {
    return `expected a scorer trained on ${JSON.stringify(model.manifest.dataset)} (the dataset of model ${model.id}) or a general-purpose one, got ${name}, trained on ${JSON.stringify(m.dataset)}`;
  }
  if (scorerDataset && m.classes !== scorerDataset.classes) {
    return `expected a scorer with the ${scorerDataset.classes} classes of dataset ${scorerDataset.name}, got ${name} with ${m.classes}`;
  }
  return undefined;
}

/**
 * The scorer a subject is scored with when none is named: the first of `scorers` (in catalog order)
 * trained on the subject's own dataset that fits it, or undefined. The evaluate mutation, `npm run
 * eval` and the per-epoch evaluation of training choose alike, so their figures compare.
 */
export function defaultScorer(
  scorers: readonly ScorerEntry[],
  subject: { id: string; manifest: Pick<ModelManifest, 'dataset' | 'imageShape'> },
  datasets: (name: string) => ReferenceDataset | undefined,
): ScorerEntry | undefined {
  return scorers.find((s) => s.manifest.dataset === subject.manifest.dataset && scorerMisfit(s, subject, datasets) === undefined);
}
