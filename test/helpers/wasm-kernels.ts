/** The kernels ganql registers on wasm, in registration order: written out here so the tests can fail. */
export const GANQL_WASM_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'Identity',
  'BatchMatMul',
  '_FusedMatMul',
  'GanqlFusedBatchNormGrad',
  'LeakyRelu',
  'GanqlLeakyReluGrad',
  'GanqlAdamUpdate',
  'Sum',
  'Mean',
  'GanqlPhiloxNormal',
  'Equal',
];
