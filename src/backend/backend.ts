import * as tf from '@tensorflow/tfjs';
import { registerCustomKernels, registerNativeKernels } from './kernels';
import { loadNativeKernels } from './native/addon';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** The ganql name of the backend chosen. */
  name: BackendName;
  /** The name tfjs knows it by (tf.getBackend()). */
  tfBackend: string;
  /** Kernels ganql registered on top of the backend's own. */
  customKernels: string[];
  /** The native training kernels when asked for: in use (instruction set, threads per call) or why not. */
  native?: { isa: string; threads: number; kernels: string[] } | { unavailable: string };
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

/** What the last initBackend chose (undefined before the first call). */
let active: BackendInfo | undefined;

/** The backend and kernels the last initBackend chose, or undefined when tfjs was set up some other way. */
export function activeBackend(): BackendInfo | undefined {
  return active;
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
    /**
     * Route wasm's products and convolutions to ganql's native addon with this many threads per call
     * (training: see docs/operations.md); the addon missing leaves wasm's kernels and says why. @default undefined (off)
     */
    nativeThreads?: number;
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
      const native = options.nativeThreads !== undefined && tfName === 'wasm' ? useNativeKernels(options.nativeThreads) : undefined;
      const why = skipped.length > 0 ? ` (skipped ${skipped.join('; ')})` : '';
      const extra = customKernels.length > 0 ? `, custom kernels: ${customKernels.join(', ')}` : '';
      log(`tfjs backend: ${name}${extra}${describeNative(native)}${why}`);
      active = { name, tfBackend: tf.getBackend(), customKernels, ...(native !== undefined ? { native } : {}) };
      return active;
    } catch (err) {
      skipped.push(`${name}: ${errorMessage(err)}`);
    }
  }
  throw new Error(`No tfjs backend could be initialised: ${skipped.join('; ')}`);
}

function useNativeKernels(threads: number): NonNullable<BackendInfo['native']> {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`Expected native threads to be a positive integer, got ${threads}`);
  const loaded = loadNativeKernels();
  if (!loaded.ok) return { unavailable: loaded.reason };
  return { isa: loaded.addon.isa(), threads, kernels: registerNativeKernels({ addon: loaded.addon, threads }) };
}

function describeNative(native: BackendInfo['native']): string {
  if (native === undefined) return '';
  if ('unavailable' in native) return `; native kernels unavailable: ${native.unavailable}`;
  return `; native kernels (${native.isa}, ${native.threads} threads per call): ${native.kernels.join(', ')}`;
}

/** Which kernels train, in a few words for logs and manifests: "native avx512, 2 threads", "wasm", "wasm (native unavailable: ...)". */
export function describeKernels(info: BackendInfo): string {
  const native = info.native;
  if (native === undefined) return info.name;
  if ('unavailable' in native) return `${info.name} (native unavailable: ${native.unavailable})`;
  return `native ${native.isa}, ${native.threads} thread${native.threads === 1 ? '' : 's'}`;
}
