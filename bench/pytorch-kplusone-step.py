"""
One ganql K+1 semi-supervised training step (src/models/kplusone-mlp.ts + src/training/kplusone-trainer.ts,
Salimans et al. 2016 sec 5 with feature matching) in PyTorch (CPU), as the speed peer of tfjs, and a
check that both compute the same step.

    /usr/bin/python3 bench/pytorch-kplusone-step.py --dir DIR --threads 1 --steps 20 --warmup 3 [--check-steps 1]

Driven by bench/train-step.ts (see bench/pytorch-train-step.py for the setup). DIR holds:
  config.json    architecture (KPlusOneMlpConfig), trainer options, batch size, tfjs parameter counts,
                 and the manifest of weights.bin / check-weights.bin: [{name, shape, offset}] (tfjs layouts)
  weights.bin    initial weights of the timed tfjs models (noise layers on)
  check-weights.bin  initial weights of the check models (built without noise: the noise of two
                 libraries cannot be drawn alike, so the check runs the step with sigma 0)
  labelled.f32, labels.i32, unlabelled.f32   one batch each [batch, 28, 28, 1] (NHWC like tfjs)
  noise.f32      --check-steps x 2 noise batches [batch, latentSize]: D step's, then G step's
Prints one JSON line on stdout.

The step (KPlusOneTrainer.trainStep, k = 1): D minimises L_supervised + w (L_unlabelled + L_generated)
on one pass over [labelled; unlabelled; G(z1)] (G in training mode, no gradient into G); the moving
average of D's parameters takes a step; then G minimises feature matching, the mean over features of
(mean f(unlabelled) - mean f(G(z2)))^2 on D's last hidden layer (one pass over both). Adam with epsilon
inside the square root, as the paper's code and KPlusOneTrainer. Weights keep tfjs's [in, out] layout
(y = x W + b), so they load without transposes.
"""

import sys

import numpy as np
import torch
import torch.nn.functional as F

from step_peer import load_weights, parse_args, read, run


def wn_kernel(v, g):
    """WeightNormDense.kernel(): v * g / ||v|| per output unit."""
    return v * (g / torch.sqrt((v * v).sum(0) + 1e-12))


class Discriminator:
    """buildKPlusOneDiscriminator: flatten, [0, 1], noise, weight-normalised ReLU layers each followed by noise, K logits."""

    def __init__(self, c, w, noise):
        self.hidden = [(w[f"d_hidden{i + 1}/v"], w[f"d_hidden{i + 1}/g"], w[f"d_hidden{i + 1}/b"]) for i in range(len(c["discriminatorUnits"]))]
        self.logits = (w["d_logits/v"], w["d_logits/g"], w["d_logits/b"])
        self.input_noise = c["inputNoise"] if noise else 0.0
        self.hidden_noise = c["hiddenNoise"] if noise else 0.0
        for v, g, b in self.hidden:
            v.requires_grad_(True)
            b.requires_grad_(True)
        for t in self.logits:
            t.requires_grad_(True)

    def parameters(self):
        return [t for v, g, b in self.hidden for t in (v, b)] + list(self.logits)

    def __call__(self, images, features_only=False):
        # d_unit_range: ganql's [-1, 1] pixels to the paper's [0, 1].
        x = images.flatten(1) * 0.5 + 0.5
        if self.input_noise > 0:
            x = x + torch.randn_like(x) * self.input_noise
        for i, (v, g, b) in enumerate(self.hidden):
            x = F.relu(x @ wn_kernel(v, g) + b)
            # The feature-matching layer's output is the last hidden layer's, before its noise.
            if features_only and i == len(self.hidden) - 1:
                return x
            if self.hidden_noise > 0:
                x = x + torch.randn_like(x) * self.hidden_noise
        v, g, b = self.logits
        return x @ wn_kernel(v, g) + b


class Generator:
    """buildKPlusOneGenerator: dense (no bias) -> batchnorm (gamma frozen) -> softplus per hidden layer, weight-normalised y, tanh(y / 2)."""

    def __init__(self, c, w):
        self.layers = []
        for i in range(len(c["generatorUnits"])):
            name = f"g_hidden{i + 1}"
            kernel = w[f"{name}/kernel"].requires_grad_(True)
            beta = w[f"{name}_bn/beta"].requires_grad_(True)
            self.layers.append((kernel, w[f"{name}_bn/gamma"], beta, w[f"{name}_bn/moving_mean"], w[f"{name}_bn/moving_variance"]))
        self.pixels = tuple(w[f"g_pixels/{n}"].requires_grad_(True) for n in ("v", "g", "b"))
        self.size = c["imageSize"]

    def parameters(self):
        return [t for kernel, gamma, beta, mean, var in self.layers for t in (kernel, beta)] + list(self.pixels)

    def __call__(self, z):
        x = z
        for kernel, gamma, beta, mean, var in self.layers:
            # Keras momentum 0.9 is PyTorch's 0.1; training mode normalises with the batch's biased variance.
            x = F.softplus(F.batch_norm(x @ kernel, mean, var, gamma, beta, training=True, momentum=0.1, eps=1e-5))
        v, g, b = self.pixels
        # g_pixels_half, g_pixels_tanh: tanh(y / 2).
        return torch.tanh((x @ wn_kernel(v, g) + b) * 0.5).view(-1, self.size, self.size, 1)


def lse(logits):
    return torch.logsumexp(logits, 1)


class AdamEpsilonInside(torch.optim.Optimizer):
    """FusedAdamOptimizer with epsilonInside (the paper's nn.adam_updates): value -= lr m_hat / sqrt(v_hat + eps)."""

    def __init__(self, params, lr, beta1, beta2=0.999, eps=1e-8):
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["t"] += 1
                m, v, t = state["m"], state["v"], state["t"]
                m.mul_(group["beta1"]).add_(p.grad, alpha=1 - group["beta1"])
                v.mul_(group["beta2"]).addcmul_(p.grad, p.grad, value=1 - group["beta2"])
                p.sub_(group["lr"] * (m / (1 - group["beta1"] ** t)) / torch.sqrt(v / (1 - group["beta2"] ** t) + group["eps"]))


class Step:
    def __init__(self, g, d, options):
        self.g, self.d = g, d
        self.g_opt = AdamEpsilonInside(g.parameters(), options["learningRate"], options["beta1"])
        self.d_opt = AdamEpsilonInside(d.parameters(), options["learningRate"], options["beta1"])
        self.weight = options["unsupervisedWeight"]
        self.rate = options["averageRate"]
        self.averages = [torch.zeros_like(p) for p in d.parameters()]

    def __call__(self, labelled, labels, unlabelled, z_d, z_g):
        n = labelled.shape[0]
        with torch.no_grad():
            fake = self.g(z_d)
        self.d_opt.zero_grad(set_to_none=True)
        logits = self.d(torch.cat([labelled, unlabelled, fake]))
        lab, unl, gen = logits[:n], logits[n : 2 * n], logits[2 * n :]
        supervised = (lse(lab) - lab.gather(1, labels.view(-1, 1)).squeeze(1)).mean()
        unsupervised = F.softplus(-lse(unl)).mean() + F.softplus(lse(gen)).mean()
        d_loss = supervised + self.weight * unsupervised
        d_loss.backward()
        self.d_opt.step()
        with torch.no_grad():
            for avg, p in zip(self.averages, self.d.parameters()):
                avg.add_(p - avg, alpha=self.rate)

        # No gradient for D's weights in G's update (tfjs's minimize(varList) computes none).
        for p in self.d.parameters():
            p.requires_grad_(False)
        self.g_opt.zero_grad(set_to_none=True)
        features = self.d(torch.cat([unlabelled, self.g(z_g)]), features_only=True)
        g_loss = ((features[:n].mean(0) - features[n:].mean(0)) ** 2).mean()
        g_loss.backward()
        self.g_opt.step()
        for p in self.d.parameters():
            p.requires_grad_(True)
        return {"discriminator": d_loss.item(), "generator": g_loss.item()}


def main():
    args, spec = parse_args(__doc__)
    c, manifest, batch = spec["architecture"], spec["weights"], spec["batchSize"]
    size = c["imageSize"]
    labelled = torch.from_numpy(read(args.dir, "labelled.f32", "<f4").reshape(batch, size, size, 1))
    unlabelled = torch.from_numpy(read(args.dir, "unlabelled.f32", "<f4").reshape(batch, size, size, 1))
    labels = torch.from_numpy(read(args.dir, "labels.i32", "<i4").astype(np.int64))

    def build(file, noise):
        w = load_weights(args.dir, file, manifest)
        return {"generator": Generator(c, w), "discriminator": Discriminator(c, w, noise)}

    run(args, spec, build, Step, (labelled, labels, unlabelled), timed_setting=True, check_setting=False)


if __name__ == "__main__":
    sys.exit(main())
