import * as tf from '@tensorflow/tfjs';
import { registerCustomKernels } from './kernels';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** The ganql name of the backend chosen. */
  name: BackendName;
  /** The name tfjs knows it by (tf.getBackend()). */
  tfBackend: string;
  /** Kernels ganql registered on top of the backend's own. */
  customKernels: string[];
}

export const defaultBackendOrder: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

const backendNames: readonly BackendName[] = defaultBackendOrder;

/** The npm package each backend comes from, and the name tfjs registers it under. */
const packages: Record<BackendName, { module: string; tfName: string }> = {
  'tensorflow-gpu': { module: '@tensorflow/tfjs-node-gpu', tfName: 'tensorflow' },
  tensorflow: { module: '@tensorflow/tfjs-node', tfName: 'tensorflow' },
  wasm: { module: '@tensorflow/tfjs-backend-wasm', tfName: 'wasm' },
  cpu: { module: '@tensorflow/tfjs-backend-cpu', tfName: 'cpu' },
};

function isBackendName(value: unknown): value is BackendName {
  return typeof value === 'string' && (backendNames as readonly string[]).includes(value);
}

function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0];
}

/** Loads the package behind `name` (which registers the backend with tfjs); throws if it is not installed. */
function loadBackendPackage(name: BackendName): void {
  // cpu ships inside @tensorflow/tfjs and is already registered.
  if (name === 'cpu') return;
  // The native packages are optional dependencies; a plain require keeps them out of the type graph.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional native package, loaded only when chosen
  require(packages[name].module);
}

/**
 * Picks the first backend of `order` that loads and initialises, registers ganql's custom
 * kernels for it, and returns what was chosen. Safe to call more than once in a process.
 * Ops must not run before this resolves: importing the wasm package makes wasm the default at once.
 */
export async function initBackend(
  options: {
    order?: readonly BackendName[];
    log?: (msg: string) => void;
    /** Register ganql's kernels; false leaves tfjs's own (if none were registered before), for comparisons. @default true */
    customKernels?: boolean;
  } = {},
): Promise<BackendInfo> {
  const order = options.order ?? defaultBackendOrder;
  const log = options.log ?? (() => undefined);
  if (order.length === 0) throw new Error(`Expected a non-empty backend order, got []`);
  for (const name of order) {
    if (!isBackendName(name)) throw new Error(`Expected a backend name among ${backendNames.join(', ')}, got ${JSON.stringify(name)}`);
  }
  const skipped: string[] = [];
  for (const name of order) {
    try {
      loadBackendPackage(name);
      const tfName = packages[name].tfName;
      const ok = await tf.setBackend(tfName);
      if (!ok) throw new Error(`tf.setBackend('${tfName}') returned false`);
      await tf.ready();
      const customKernels = options.customKernels === false ? [] : registerCustomKernels(tfName);
      const why = skipped.length > 0 ? ` (skipped ${skipped.join('; ')})` : '';
      const extra = customKernels.length > 0 ? `, custom kernels: ${customKernels.join(', ')}` : '';
      log(`tfjs backend: ${name}${extra}${why}`);
      return { name, tfBackend: tf.getBackend(), customKernels };
    } catch (err) {
      skipped.push(`${name}: ${errorMessage(err)}`);
    }
  }
  throw new Error(`No tfjs backend could be initialised: ${skipped.join('; ')}`);
}
