import { onnx } from 'onnx-proto';

/** How a rank-4 value is laid out: tfjs's channels-last, or ONNX's channels-first that Conv and ConvTranspose read. */
export type Layout = 'nhwc' | 'nchw';

/** A value of the graph being built: its name in the graph, its shape without the batch axis as tfjs sees it, its layout. */
export interface GraphValue {
  name: string;
  /** Shape without the batch axis in tfjs's (channels-last) order, whatever the layout in the graph. */
  shape: number[];
  /** Only meaningful for rank-4 values ([h, w, c] here); others are always in tfjs's order. */
  layout: Layout;
}

/** An ONNX attribute value: one int, float, string, or a list of ints. */
export type AttributeValue = number | { float: number } | string | number[];

/** NHWC -> NCHW and back. */
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

/**
 * The nodes and initializers of one ONNX graph, added in order. Names are unique (a clash is a bug
 * of the caller, so it throws); initializers are stored little-endian in raw_data, so the same
 * weights give the same bytes.
 */
export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();
  /** Layout conversions already made, so a value read by several layers is transposed once. */
  private readonly converted = new Map<string, GraphValue>();

  /** Claims `name` for a value or node; throws if it is taken. */
  claim(name: string): string {
    if (this.names.has(name)) throw new Error(`GraphBuilder: expected a new name, got ${JSON.stringify(name)} twice`);
    this.names.add(name);
    return name;
  }

  /** Adds a float32 initializer of `shape` (row-major `values`) and returns its name. */
  floats(name: string, values: Float32Array | readonly number[], shape: readonly number[]): string {
    const count = shape.reduce((a, b) => a * b, 1);
    if (values.length !== count) throw new Error(`GraphBuilder.floats(${name}): expected ${count} values for shape [${shape}], got ${values.length}`);
    const raw = new Uint8Array(count * 4);
    const view = new DataView(raw.buffer);
    for (let i = 0; i < count; i++) view.setFloat32(i * 4, values[i], true);
    this.initializers.push({ name: this.claim(name), dataType: onnx.TensorProto.DataType.FLOAT, dims: [...shape], rawData: raw });
    return name;
  }

  /** Adds an int64 vector initializer (shapes for Reshape) and returns its name. */
  int64s(name: string, values: readonly number[]): string {
    const raw = new Uint8Array(values.length * 8);
    const view = new DataView(raw.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name: this.claim(name), dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], rawData: raw });
    return name;
  }

  /** Adds a node `opType` reading `inputs` and writing one new value named `output`; returns that name. */
  node(opType: string, inputs: readonly string[], output: string, attributes: Record<string, AttributeValue> = {}): string {
    this.nodes.push({
      opType,
      name: `${output}/${opType}`,
      input: [...inputs],
      output: [this.claim(output)],
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return output;
  }

  /** `value` laid out as `layout` (a rank-4 value gets a Transpose, made once per value and layout); other ranks are returned as they are. */
  inLayout(value: GraphValue, layout: Layout): GraphValue {
    if (value.shape.length !== 3 || value.layout === layout) return value;
    const key = `${value.name}:${layout}`;
    const done = this.converted.get(key);
    if (done !== undefined) return done;
    const name = this.node('Transpose', [value.name], `${value.name}_${layout}`, { perm: layout === 'nchw' ? TO_NCHW : TO_NHWC });
    const converted: GraphValue = { name, shape: value.shape, layout };
    this.converted.set(key, converted);
    return converted;
  }
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`GraphBuilder: attribute ${name}: expected an integer (wrap floats as { float }), got ${value}`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: [...value] };
  return { name, type: AttributeType.FLOAT, f: value.float };
}
