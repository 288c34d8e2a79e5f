import * as tf from '@tensorflow/tfjs';

/**
 * The semi-supervised K+1 discriminator of Salimans et al. 2016, sec 5. D outputs K logits l;
 * the (K+1)th ("generated") logit is fixed at 0, which leaves the softmax unchanged in
 * expressiveness. With Z = sum_k exp(l_k), lse = log Z:
 *   p(y = k | x, y <= K) = softmax(l)_k        p(K+1 | x) = 1 / (Z + 1)
 *   D(x) = 1 - p(K+1 | x) = Z / (Z + 1) = sigmoid(lse)
 * Every loss below is written with logsumexp and softplus, so large logits do not overflow.
 */

/** Supervised loss: mean over labelled examples of -log p(y | x, y <= K) = lse(l) - l_y. labels: int32 [n]. */
export function supervisedLoss(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  if (labels.shape[0] !== logits.shape[0]) throw new Error(`supervisedLoss: expected ${logits.shape[0]} labels, got ${labels.shape[0]}`);
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    const picked = tf.sum(tf.mul(logits, oneHot), 1);
    return tf.mean<tf.Scalar>(tf.sub(tf.logSumExp(logits, 1), picked));
  });
}

/** Unlabelled real data: mean of -log(1 - p(K+1|x)) = -log(Z/(Z+1)) = softplus(-lse). */
export function unlabelledRealLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean<tf.Scalar>(tf.softplus(tf.neg(tf.logSumExp(logits, 1)))));
}

/** Generated data: mean of -log p(K+1|G(z)) = log(Z+1) = softplus(lse). */
export function generatedLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean<tf.Scalar>(tf.softplus(tf.logSumExp(logits, 1))));
}

export interface KPlusOneLosses {
  supervised: tf.Scalar;
  /** unlabelledReal + generated: the paper's L_unsupervised (the GAN game with D(x) = Z/(Z+1)). */
  unsupervised: tf.Scalar;
  /** supervised + unsupervisedWeight * unsupervised: what D minimises. */
  total: tf.Scalar;
}

/** D's loss L = L_supervised + w * L_unsupervised (w = 1 in the paper). The caller disposes the three scalars. */
export function kPlusOneDiscriminatorLoss(
  labelled: { logits: tf.Tensor2D; labels: tf.Tensor1D },
  unlabelledLogits: tf.Tensor2D,
  generatedLogits: tf.Tensor2D,
  unsupervisedWeight = 1,
): KPlusOneLosses {
  if (!(unsupervisedWeight >= 0)) throw new Error(`unsupervisedWeight: expected >= 0, got ${unsupervisedWeight}`);
  return tf.tidy(() => {
    const supervised = supervisedLoss(labelled.logits, labelled.labels);
    const unsupervised = tf.add<tf.Scalar>(unlabelledRealLoss(unlabelledLogits), generatedLoss(generatedLogits));
    const total = tf.add<tf.Scalar>(supervised, tf.mul(unsupervised, unsupervisedWeight));
    return { supervised, unsupervised, total };
  });
}

/** [n, K] logits -> [n, K+1] probabilities: the K classes, then "generated" (logit 0). */
export function kPlusOneProbabilities(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.softmax(tf.concat([logits, tf.zeros([logits.shape[0], 1])], 1)) as tf.Tensor2D);
}
