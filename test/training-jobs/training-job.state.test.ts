import { describe, expect, it } from 'vitest';
import { endMessage, isFinalState, runStatusOf, TRAINING_JOB_STATES } from '../../src/training-jobs/training-job.state';

describe('training job states', () => {
  it('QUEUED and RUNNING are open, the others final; each maps to its run status', () => {
    expect(TRAINING_JOB_STATES.filter(isFinalState)).toEqual(['SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED']);
    expect(TRAINING_JOB_STATES.map(runStatusOf)).toEqual(['RUNNING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED']);
  });

  it('only a job that did not succeed has an error message', () => {
    expect(endMessage({ state: 'SUCCEEDED', modelId: 'a@1' })).toBeNull();
    expect(endMessage({ state: 'FAILED', code: 'BAD_USER_INPUT', message: 'bad' })).toBe('bad');
    expect(endMessage({ state: 'CANCELLED', message: 'cancelled after 1 of 3 epochs' })).toBe('cancelled after 1 of 3 epochs');
    expect(endMessage({ state: 'INTERRUPTED', message: 'stopped', resumeOnStart: true })).toBe('stopped');
  });
});
