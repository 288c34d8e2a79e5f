import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { generatorOf, readManifest } from '../../src/models/manifest';

export interface BenchModel {
  /** "name@version" from the manifest, or the folder name when there is none. */
  label: string;
  /** Folder of the generator's model.json + weights.bin. */
  generatorDir: string;
}

/**
 * A model folder as the server loads it (manifest.json naming the generator), or, while a training
 * run has not written its manifest yet, any folder with generator/model.json.
 */
export function resolveBenchModel(dir: string): BenchModel {
  const manifestPath = path.join(dir, 'manifest.json');
  if (existsSync(manifestPath)) {
    const manifest = readManifest(dir);
    const generator = generatorOf(manifest);
    if (generator === undefined) throw new Error(`${dir}: expected a model with a generator, got one without`);
    return { label: `${manifest.name}@${manifest.version}`, generatorDir: path.join(dir, generator.path) };
  }
  const generatorDir = path.join(dir, 'generator');
  if (!existsSync(path.join(generatorDir, 'model.json'))) {
    throw new Error(`${dir}: expected manifest.json or generator/model.json, got neither`);
  }
  return { label: `${path.basename(dir)} (no manifest)`, generatorDir };
}

/** The folder the server serves by default: the first (by name) with a manifest, as ModelRegistry orders them. */
export function defaultModelFolder(modelsDir: string): string {
  const folders = readdirSync(modelsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(modelsDir, e.name, 'manifest.json')))
    .map((e) => e.name)
    .sort();
  if (folders.length === 0) throw new Error(`${modelsDir}: expected at least one <model>/manifest.json, got none`);
  return path.join(modelsDir, folders[0]);
}
