import { runAutoencoderSession } from './autoencoder-session';
import { runGanSession } from './gan-session';
import type { SessionOptions, SessionResult } from './session-options';
import type { TrainingSpec } from './training-spec';

/**
 * Runs one training described by `spec` to the end (or until shouldStop), checkpointing after every
 * epoch, and writes the servable version folder options.outDir. Deterministic given spec.seed on one
 * backend, across stop and resume. The caller initialises the tfjs backend.
 */
export async function runTrainingSession(spec: TrainingSpec, options: SessionOptions): Promise<SessionResult> {
  return spec.mode === 'autoencoder' ? runAutoencoderSession(spec, options) : runGanSession(spec, options);
}
