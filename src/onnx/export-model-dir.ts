import { foldBatchNorm } from '../models/fold-batch-norm';
import { loadLayersModel } from '../models/io';
// ganql's own layers, so a folder that uses one loads here (and is then exported, or refused by name).
import '../models/layers/minibatch-discrimination';
import '../models/layers/seeded-dropout';
import '../models/layers/seeded-gaussian-noise';
import '../models/layers/virtual-batch-norm';
import '../models/layers/weight-norm-dense';
import { exportOnnx, type OnnxExportOptions } from './export-onnx';

/**
 * The ONNX bytes of the tfjs layers model in `dir` (model.json + weights.bin) as ganql serves it:
 * batchnorms folded into the layer before them, weight norm computed into plain kernels. The same
 * bytes the executors export in memory from the loaded network. Throws OnnxExportError naming a
 * layer it cannot write; loading errors name the file.
 */
export async function exportModelDir(dir: string, options: OnnxExportOptions = {}): Promise<Uint8Array> {
  const saved = await loadLayersModel(dir);
  try {
    const folded = await foldBatchNorm(saved);
    try {
      return exportOnnx(folded, options);
    } finally {
      folded.dispose();
    }
  } finally {
    saved.dispose();
  }
}
