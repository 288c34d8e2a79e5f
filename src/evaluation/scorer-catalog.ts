import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import path from 'node:path';
import { loadScorer, SCORER_MANIFEST_FILE, type Scorer } from './scorer';
import { parseScorerManifest, type ScorerManifest } from './scorer-manifest';

/** A registered scorer: its manifest, read at start; its model is loaded on first use. */
export interface ScorerEntry {
  /** The folder name, which is how requests name it (e.g. "mnist-cnn"). */
  name: string;
  dir: string;
  manifest: ScorerManifest;
}

/** A loaded scorer and the digest of its files (a retrained scorer has another digest). */
export interface LoadedScorerEntry {
  entry: ScorerEntry;
  scorer: Scorer;
  /** sha256 over the folder's files (names and bytes), hex. */
  digest: string;
}

/**
 * Every scorer under a root folder (`<root>/<name>/scorer.json`). Manifests are read at start, so
 * listing and validation need no model; each model is loaded once, on first use, and kept.
 */
export class ScorerCatalog {
  private readonly byName: Map<string, ScorerEntry>;
  private readonly loaded = new Map<string, Promise<LoadedScorerEntry>>();

  private constructor(entries: ScorerEntry[]) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  /** Reads every `<root>/*\/scorer.json`; a folder whose manifest does not parse is reported and skipped. */
  static load(root: string, onSkipped: (folder: string, reason: string) => void = () => undefined): ScorerCatalog {
    if (!existsSync(root)) return new ScorerCatalog([]);
    const entries: ScorerEntry[] = [];
    const folders = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(path.join(root, e.name, SCORER_MANIFEST_FILE)))
      .map((e) => e.name)
      .sort();
    for (const name of folders) {
      const dir = path.join(root, name);
      const file = path.join(dir, SCORER_MANIFEST_FILE);
      try {
        entries.push({ name, dir, manifest: parseScorerManifest(JSON.parse(readFileSync(file, 'utf8')), file) });
      } catch (error) {
        onSkipped(name, error instanceof Error ? error.message : String(error));
      }
    }
    return new ScorerCatalog(entries);
  }

  list(): ScorerEntry[] {
    return [...this.byName.values()];
  }

  get(name: string): ScorerEntry | undefined {
    return this.byName.get(name);
  }

  /** The scorer's model, loaded once (concurrent callers share the load); a failed load is retried next time. */
  use(name: string): Promise<LoadedScorerEntry> {
    const entry = this.byName.get(name);
    if (!entry) return Promise.reject(new Error(`ScorerCatalog: expected one of ${[...this.byName.keys()].join(', ')}, got ${JSON.stringify(name)}`));
    let loading = this.loaded.get(name);
    if (!loading) {
      loading = (async () => {
        const [scorer, digest] = await Promise.all([loadScorer(entry.dir), digestOfFolder(entry.dir)]);
        return { entry, scorer, digest };
      })();
      this.loaded.set(name, loading);
      loading.catch(() => this.loaded.delete(name));
    }
    return loading;
  }

  /** Frees every loaded model. */
  async dispose(): Promise<void> {
    const loads = [...this.loaded.values()];
    this.loaded.clear();
    for (const result of await Promise.allSettled(loads)) if (result.status === 'fulfilled') result.value.scorer.dispose();
  }
}

/** sha256 of every file under `dir` (relative name, NUL, bytes), in sorted order. */
export async function digestOfFolder(dir: string): Promise<string> {
  const files = (await fs.readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file).update('\0');
    hash.update(await fs.readFile(path.join(dir, file)));
  }
  return hash.digest('hex');
}
