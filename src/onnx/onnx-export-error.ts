/** A model (or a layer of it) the ONNX exporter cannot write; the model stays on tfjs. */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}
