import * as tf from '@tensorflow/tfjs';
import { createPrng } from '../../data/prng';
import { ParameterAverage } from './parameter-average';
import { movingStatistics, setMovingStatistics, standingStatistics } from './standing-statistics';

/** Batches of latents the standing statistics are accumulated over (BigGAN's code accumulates 16). */
export const STANDING_BATCHES = 32;
/** The standing statistics' latents are seeded apart from the training noise and the sample grids. */
export const STANDING_NOISE_SALT = 3_000_017;

/** Where the standing statistics' latents come from: STANDING_BATCHES seeded batches of the training batch size. */
export interface StandingNoise {
  batchSize: number;
  latentSize: number;
  seed: number;
}

/**
 * An exponential moving average of G's trainable parameters (ParameterAverage: bias corrected), for
 * a generator that is saved, sampled and evaluated with its averages. A batchnorm's moving mean and
 * variance were tracked for the live weights, not for their average: use() sets them to the standing
 * statistics of the averaged G (standing-statistics.ts) over STANDING_BATCHES fixed seeded batches
 * of latents, computed once per update count. dispose() frees the means and the cached statistics.
 */
export class GeneratorAverage {
  private readonly average: ParameterAverage;
  private readonly noise: Float32Array;
  /** The standing statistics of the averages at `count` updates. */
  private standing: { count: number; stats: [tf.Tensor, tf.Tensor][] } | null = null;

  constructor(
    private readonly generator: tf.LayersModel,
    params: readonly tf.Variable[],
    rate: number,
    private readonly standingNoise: StandingNoise,
  ) {
    this.average = new ParameterAverage(params, rate);
    const prng = createPrng(standingNoise.seed + STANDING_NOISE_SALT);
    this.noise = new Float32Array(STANDING_BATCHES * standingNoise.batchSize * standingNoise.latentSize);
    for (let i = 0; i < this.noise.length; i++) this.noise[i] = prng.nextNormal();
  }

  get rate(): number {
    return this.average.rate;
  }

  /** Updates folded in so far. */
  get count(): number {
    return this.average.count;
  }

  /** Folds G's current parameters into the average (after each G step). */
  update(): void {
    this.average.update();
  }

  /** The bias-corrected averages, one per parameter (the caller disposes them). */
  averages(): tf.Tensor[] {
    return this.average.averages();
  }

  /** fn with G at its averaged parameters and their standing statistics; G's own are put back afterwards. */
  use<T>(fn: () => T): T {
    return this.average.withAverages(() => {
      const restore = this.setStanding();
      try {
        return fn();
      } finally {
        restore();
      }
    });
  }

  /** use() for async work (saving G, an evaluation): the averages stay in place until fn settles. */
  useAsync<T>(fn: () => Promise<T>): Promise<T> {
    return this.average.withAveragesAsync(async () => {
      const restore = this.setStanding();
      try {
        return await fn();
      } finally {
        restore();
      }
    });
  }

  /** Copies of the raw means, for a checkpoint (the caller disposes them). */
  snapshot(): tf.Tensor[] {
    return this.average.snapshot();
  }

  restore(means: readonly tf.Tensor[], count: number): void {
    this.average.restore(means, count);
    this.dropStanding();
  }

  dispose(): void {
    this.average.dispose();
    this.dropStanding();
  }

  /** With the averages in place: sets G's batchnorm statistics to theirs; returns what puts the live ones back. */
  private setStanding(): () => void {
    const stats = this.standingStatistics();
    if (stats.length === 0) return () => undefined;
    const live = movingStatistics(this.generator);
    setMovingStatistics(this.generator, stats);
    return () => {
      setMovingStatistics(this.generator, live);
      tf.dispose(live.flat());
    };
  }

  private standingStatistics(): [tf.Tensor, tf.Tensor][] {
    if (this.standing?.count === this.count) return this.standing.stats;
    this.dropStanding();
    const { batchSize, latentSize } = this.standingNoise;
    const size = batchSize * latentSize;
    const batches = Array.from({ length: STANDING_BATCHES }, (_, b) => tf.tensor2d(this.noise.subarray(b * size, (b + 1) * size), [batchSize, latentSize]));
    try {
      this.standing = { count: this.count, stats: standingStatistics(this.generator, batches) };
    } finally {
      tf.dispose(batches);
    }
    return this.standing.stats;
  }

  private dropStanding(): void {
    if (this.standing !== null) tf.dispose(this.standing.stats.flat());
    this.standing = null;
  }
}
