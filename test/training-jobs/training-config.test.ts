import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config';

describe('training settings', () => {
  it('default to one job at a time, resume on, job folders under ./data/training, a native thread per core', () => {
    expect(loadConfig({}).training).toEqual({
      jobsDir: path.resolve('data/training'),
      maxJobs: 1,
      resume: true,
      threads: Math.min(8, os.availableParallelism()),
    });
  });

  it('are read from the environment', () => {
    expect(
      loadConfig({ GANQL_TRAINING_DIR: '/tmp/jobs', GANQL_MAX_TRAINING_JOBS: '3', GANQL_RESUME_TRAINING: 'false', GANQL_TRAINING_THREADS: '1' }).training,
    ).toEqual({
      jobsDir: '/tmp/jobs',
      maxJobs: 3,
      resume: false,
      threads: 1,
    });
    expect(loadConfig({ GANQL_RESUME_TRAINING: '0' }).training.resume).toBe(false);
    expect(loadConfig({ GANQL_RESUME_TRAINING: '1' }).training.resume).toBe(true);
  });

  it('refuse bad values, naming the variable', () => {
    expect(() => loadConfig({ GANQL_MAX_TRAINING_JOBS: '0' })).toThrow('GANQL_MAX_TRAINING_JOBS: expected an integer in 1..64, got "0"');
    expect(() => loadConfig({ GANQL_RESUME_TRAINING: 'yes' })).toThrow('GANQL_RESUME_TRAINING: expected true, false, 1 or 0, got "yes"');
  });
});
