import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { topologyOf } from '../models/topology';
import { exportLayer } from './export-layers';
import { GraphBuilder, type GraphValue } from './onnx-graph';
import { OnnxExportError } from './onnx-export-error';

/** The ONNX operator set the exporter writes (every op it uses has had its current form since opset 13). */
export const ONNX_OPSET = 17;
/** The IR version of opset 17 (ONNX 1.12). */
const IR_VERSION = 8;

export interface OnnxExportOptions {
  /** Name of the graph's input, [batch, ...the model's input shape]. @default "input" */
  inputName?: string;
  /** Name of the graph's output, [batch, ...the model's output shape] in tfjs's (channels-last) order. @default "output" */
  outputName?: string;
  /** Written as the model's metadata_props, in key order (an ONNX file records what it was made from there). @default none */
  metadata?: Record<string, string>;
}

/** A layer of the walk and the layer whose output it reads (undefined: the model's input). */
interface Step {
  layer: tf.layers.Layer;
  reads: string | undefined;
}

/**
 * The ONNX ModelProto (opset 17, float32, batch dimension "batch") of a single-input, single-output
 * tfjs model whose layers form a chain, encoded. Takes the model as it is: fold batchnorms first
 * (foldBatchNorm) to serve what the tfjs path serves. Deterministic: the same weights give the same
 * bytes. Throws OnnxExportError naming the first layer it cannot write; the model is left untouched.
 */
export function exportOnnx(model: tf.LayersModel, options: OnnxExportOptions = {}): Uint8Array {
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new OnnxExportError(`model ${model.name}: expected one input and one output, got ${model.inputs.length} and ${model.outputs.length}`);
  }
  const graph = new GraphBuilder();
  const input: GraphValue = { name: graph.claim(inputName), shape: knownShape(model.inputs[0].shape, `model ${model.name} input`), layout: 'nhwc' };
  const { steps, output } = walk(model);
  const values = new Map<string, GraphValue>();
  for (const { layer, reads } of steps) {
    const source = reads === undefined ? input : values.get(reads);
    if (source === undefined) throw new OnnxExportError(`layer ${layer.name} reads ${reads}, which comes later or is not a layer of the chain`);
    values.set(layer.name, exportLayer(layer, source, graph));
  }
  const last = output === undefined ? input : values.get(output);
  if (last === undefined) throw new OnnxExportError(`model ${model.name}: its output layer ${output} was not exported`);
  const result = graph.node('Identity', [graph.inLayout(last, 'nhwc').name], outputName);

  const proto: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'ganql',
    metadataProps: Object.entries(options.metadata ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value })),
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(input.name, input.shape)],
      output: [valueInfo(result, last.shape)],
    },
  };
  return onnx.ModelProto.encode(proto).finish();
}

/**
 * The layers in an order where each comes after what it reads, with what each reads, and the layer
 * whose output is the model's (undefined when the output is the input itself). Every layer must read
 * exactly one tensor: merges and shared layers are refused.
 */
function walk(model: tf.LayersModel): { steps: Step[]; output: string | undefined } {
  if (model instanceof tf.Sequential) {
    const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
    return { steps: layers.map((layer, i) => ({ layer, reads: i === 0 ? undefined : layers[i - 1].name })), output: layers.at(-1)?.name };
  }
  const topology = topologyOf(model, 'exportOnnx');
  const inputs = new Set<string>();
  const steps: Step[] = [];
  for (const entry of topology.config.layers) {
    if (entry.class_name === 'InputLayer') {
      inputs.add(entry.name);
      continue;
    }
    if (entry.inbound_nodes.length !== 1 || entry.inbound_nodes[0].length !== 1) {
      throw new OnnxExportError(
        `layer ${entry.name} (${entry.class_name}) cannot be exported: it reads ${entry.inbound_nodes.map((n) => n.length).join(' + ') || 'no'} tensors (expected one: the exporter writes chains)`,
      );
    }
    const [source, nodeIndex, tensorIndex] = entry.inbound_nodes[0][0];
    if (nodeIndex !== 0 || tensorIndex !== 0)
      throw new OnnxExportError(`layer ${entry.name} reads output ${tensorIndex} of call ${nodeIndex} of ${source} (expected one call, one output)`);
    steps.push({ layer: model.getLayer(entry.name), reads: inputs.has(source) ? undefined : source });
  }
  const [outputLayer] = topology.config.output_layers[0];
  return { steps, output: inputs.has(outputLayer) ? undefined : outputLayer };
}

/** [null, ...dims] -> dims, all known. */
function knownShape(shape: (number | null)[], what: string): number[] {
  const dims = shape.slice(1);
  if (!dims.every((d): d is number => typeof d === 'number' && d > 0))
    throw new OnnxExportError(`${what}: expected known dimensions after the batch, got [${shape.join(', ')}]`);
  return dims;
}

/** A float32 tensor [batch, ...shape] with a named (dynamic) batch dimension. */
function valueInfo(name: string, shape: number[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, ...shape.map((d) => ({ dimValue: d }))] } } },
  };
}
