import { pngDataUrl } from '../../images/png';
import type { SampleView } from '../../samples/sample.service';
import type { Sample } from './sample.type';

export function toSample(view: SampleView): Sample {
  return {
    id: view.id,
    modelId: view.modelId,
    runId: view.runId,
    index: view.index,
    latent: Array.from(view.latent),
    image: { mimeType: 'image/png', width: view.width, height: view.height, channels: view.channels, dataUrl: pngDataUrl(view.png), sampleId: view.id },
    backend: view.backend,
    regeneratedOn: view.regeneratedOn ?? null,
    createdAt: view.createdAt,
  };
}
