import * as tf from '@tensorflow/tfjs';

/** One input of a call node: [layerName, nodeIndex, tensorIndex, kwargs]. */
export type InboundRef = [string, number, number, unknown];

/** A layer entry of a Keras/tfjs functional topology (model.toJSON), as far as ganql's rewrites read it. */
export interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  /** Per call node: the inputs it reads. */
  inbound_nodes: InboundRef[][];
}

/** A functional model's topology (model.toJSON), as far as ganql's rewrites read it. */
export interface TopologyJson {
  class_name: string;
  config: { layers: LayerJson[]; input_layers: unknown; output_layers: [string, number, number][] };
}

function isTopology(value: unknown): value is TopologyJson {
  if (typeof value !== 'object' || value === null) return false;
  const config = (value as { config?: unknown }).config;
  if (typeof config !== 'object' || config === null) return false;
  const { layers, output_layers } = config as Record<string, unknown>;
  return (
    Array.isArray(layers) &&
    Array.isArray(output_layers) &&
    layers.every((l: unknown) => typeof l === 'object' && l !== null && typeof (l as LayerJson).name === 'string' && Array.isArray((l as LayerJson).inbound_nodes))
  );
}

/** A deep, editable copy of `model`'s functional topology; `where` names the caller in the error. */
export function topologyOf(model: tf.LayersModel, where: string): TopologyJson {
  const json: unknown = JSON.parse(JSON.stringify(model.toJSON(null, false)));
  if (!isTopology(json)) {
    throw new Error(`${where}: expected a functional model topology with layers and inbound_nodes, got class ${String((json as { class_name?: unknown } | null)?.class_name)}`);
  }
  return json;
}

/** A new model (fresh weights) built from an edited topology; the caller sets its weights. */
export function modelFromTopology(topology: TopologyJson): Promise<tf.LayersModel> {
  // toJSON's output is a valid model topology; the cast only re-types the parsed JSON.
  return tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
}
