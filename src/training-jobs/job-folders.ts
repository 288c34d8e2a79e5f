import { cpSync, existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { checkpointCandidates, checkpointFolder } from '../training/checkpoint';
import { timeLabel } from '../training/version-writer';

/** A model name that is also a safe folder name. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The job's working folder: the session's outDir (its checkpoint and sample grids), named by job id. */
export function jobFolder(jobsDir: string, jobId: string): string {
  return path.join(jobsDir, jobId);
}

/**
 * The version label of a job's final model: when it was started, and the random tail of its id so
 * two jobs of one name started in the same minute do not collide ("2026-11-27T04-42-1f9c03ab").
 */
export function versionLabel(createdAt: Date, jobId: string): string {
  return `${timeLabel(createdAt)}-${jobId.replace(/-/g, '').slice(-8)}`;
}

/** The folder of a version under the models root; kept epochs add "-epoch-NNN". */
export function versionFolderName(name: string, version: string): string {
  return `${name}-${version}`;
}

/**
 * Whether the session left a checkpoint to resume from: a checkpoint folder with its state.json
 * (written last), or the .next/.old one a crash in the middle of swapping them left.
 */
export function hasCheckpoint(folder: string): boolean {
  return checkpointCandidates(checkpointFolder(folder)).some((dir) => existsSync(path.join(dir, 'state.json')));
}

/** Moves a finished version folder into the models root (copying across file systems); returns its folder name there. */
export function moveIntoModels(from: string, modelsDir: string, folderName: string): string {
  const to = path.join(modelsDir, folderName);
  if (existsSync(to)) throw new Error(`cannot move the trained version to ${to}: a folder of that name exists`);
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    cpSync(from, to, { recursive: true });
    rmSync(from, { recursive: true, force: true });
  }
  return folderName;
}
