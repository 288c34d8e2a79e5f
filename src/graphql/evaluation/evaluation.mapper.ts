import type { EvaluationView } from '../../evaluation/evaluation.service';
import type { NeighbourView } from '../../evaluation/nearest-neighbour.service';
import type { ScorerEntry } from '../../evaluation/scorer-catalog';
import { pngDataUrl } from '../../images/png';
import { toSample } from '../samples/sample.mapper';
import type { Evaluation, NearestNeighbour, Scorer } from './evaluation.type';

export function toEvaluation(view: EvaluationView): Evaluation {
  return { ...view };
}

export function toScorer(entry: ScorerEntry): Scorer {
  const m = entry.manifest;
  const [height, width, channels] = m.inputShape;
  return {
    name: entry.name,
    dataset: m.dataset,
    classes: m.classes,
    classNames: m.classNames ?? null,
    inputShape: { height, width, channels },
    testAccuracy: m.testAccuracy,
    testExamples: m.testExamples,
    trainingCommand: m.training.command,
  };
}

export function toNearestNeighbour(view: NeighbourView): NearestNeighbour {
  return {
    sample: toSample(view.sample),
    neighbour: { mimeType: 'image/png', width: view.width, height: view.height, channels: view.channels, dataUrl: pngDataUrl(view.png) },
    dataset: view.dataset,
    split: view.split,
    trainingIndex: view.trainingIndex,
    label: view.label,
    distance: view.distance,
  };
}
