import * as tf from '@tensorflow/tfjs';

/**
 * One-sided label smoothing (Salimans et al. 2016, sec 3.4): the discriminator's real targets
 * become `realTarget` (e.g. 0.9) while fake targets stay 0. Smoothing the fake side too would
 * reward D for pushing its output toward fake data where data is rare (the paper's reason).
 */
export function checkRealTarget(realTarget: number): number {
  if (!(realTarget > 0 && realTarget <= 1)) throw new Error(`labelSmoothing: expected a real target in (0, 1], got ${realTarget}`);
  return realTarget;
}

/** Targets for a batch of logits: `realTarget` for real, 0 for fake, one per logit. */
export function smoothedTargets(logits: tf.Tensor, real: boolean, realTarget: number): tf.Tensor {
  return real ? tf.fill(logits.shape, checkRealTarget(realTarget)) : tf.zerosLike(logits);
}

/**
 * D's loss mean CE(realTarget, sigmoid(realLogits)) + mean CE(0, sigmoid(fakeLogits)), from logits
 * (tf.losses.sigmoidCrossEntropy's stable max(x, 0) - x*t + log(1 + exp(-|x|))). realTarget 1 is
 * the plain GAN loss. tf's own `labelSmoothing` argument is two-sided, hence this function.
 */
export function discriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor, realTarget = 1): tf.Scalar {
  return tf.tidy(() => {
    const realLoss = tf.losses.sigmoidCrossEntropy(smoothedTargets(realLogits, true, realTarget), realLogits);
    const fakeLoss = tf.losses.sigmoidCrossEntropy(smoothedTargets(fakeLogits, false, realTarget), fakeLogits);
    return tf.add<tf.Scalar>(realLoss, fakeLoss);
  });
}
