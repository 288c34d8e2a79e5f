import { UnreachableCaseError } from '../errors/unreachable';
import { runAutoencoderSession } from './autoencoder-session';
import { runGanSession } from './gan-session';
import type { SessionOptions, SessionResult } from './session-options';
import { runSupervisedSession } from './supervised-session';
import type { TrainingSpec } from './training-spec';

/**
 * Runs one training described by `spec` to the end (or until shouldStop), checkpointing after every
 * epoch, and writes the servable version folder options.outDir. Deterministic given spec.seed on one
 * backend, across stop and resume. The caller initialises the tfjs backend.
 */
export async function runTrainingSession(spec: TrainingSpec, options: SessionOptions): Promise<SessionResult> {
  switch (spec.mode) {
    case 'gan':
    case 'kplusone':
      return runGanSession(spec, options);
    case 'autoencoder':
      return runAutoencoderSession(spec, options);
    case 'supervised':
      return runSupervisedSession(spec, options);
    default:
      throw new UnreachableCaseError(spec.mode);
  }
}
