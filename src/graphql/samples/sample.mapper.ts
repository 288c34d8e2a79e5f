import { pngDataUrl } from '../../images/png';
import type { SampleView } from '../../samples/sample.service';
import type { Sample } from './sample.type';

/** The latent as numbers and the PNG as base64 are made only when the query asks for them (getters): most ask for one or neither. */
export function toSample(view: SampleView): Sample {
  return {
    id: view.id,
    modelId: view.modelId,
    runId: view.runId,
    index: view.index,
    get latent() {
      return Array.from(view.latent);
    },
    image: {
      mimeType: 'image/png',
      width: view.width,
      height: view.height,
      channels: view.channels,
      get dataUrl() {
        return pngDataUrl(view.png);
      },
      sampleId: view.id,
    },
    backend: view.backend,
    regeneratedOn: view.regeneratedOn ?? null,
    createdAt: view.createdAt,
  };
}
