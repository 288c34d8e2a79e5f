"""
One ganql MLP GAN training step (src/models/mlp-gan.ts, Goodfellow et al. 2014's MNIST networks, with
src/training/dcgan-trainer.ts's step) in PyTorch (CPU), as the speed peer of tfjs, and a check that
both compute the same step.

    /usr/bin/python3 bench/pytorch-mlp-gan-step.py --dir DIR --threads 1 --steps 20 --warmup 3 [--check-steps 1]

Driven by bench/train-step.ts (see bench/pytorch-train-step.py for the setup). DIR holds:
  config.json       architecture (MlpGanConfig), trainer options, batch size, tfjs parameter counts and
                    the manifest of weights.bin / check-weights.bin: [{name, shape, offset}] (tfjs layouts)
  weights.bin       initial weights of the timed tfjs models (dropout on)
  check-weights.bin initial weights of the check models (dropout 0: the two libraries cannot draw the same masks)
  real.f32          one real batch [batch, 28, 28, 1]
  noise.f32         --check-steps x 2 noise batches [batch, latentSize]: D step's, then G step's
Prints one JSON line on stdout.

The step (k = 1): D update with BCE(D(real), 1) + BCE(D(G(z1)), 0) from logits (G without gradient),
then G update with the non-saturating BCE(D(G(z2)), 1), no gradient for D's weights; Adam
(lr, beta1 from config, beta2 0.999, eps 1e-8). Maxout: a dense layer of units * pieces, read as
[pieces, units] and maxed over the pieces. Weights keep tfjs's [in, out] layout (y = x W + b).
"""

import sys

import numpy as np
import torch
import torch.nn.functional as F

from step_peer import load_weights, parse_args, read, run


class Generator:
    def __init__(self, c, w):
        self.layers = [(w[f"{n}/kernel"], w[f"{n}/bias"]) for n in ("g_hidden1", "g_hidden2", "g_pixels")]
        self.size = c["imageSize"]
        self.tanh = c["outputActivation"] == "tanh"

    def parameters(self):
        return [t for layer in self.layers for t in layer]

    def __call__(self, z):
        x = z
        for kernel, bias in self.layers[:2]:
            x = F.relu(x @ kernel + bias)
        kernel, bias = self.layers[2]
        x = x @ kernel + bias
        x = torch.tanh(x) if self.tanh else torch.sigmoid(x)
        return x.view(-1, self.size, self.size, 1)


class Discriminator:
    def __init__(self, c, w, dropout):
        self.maxouts = [(w[f"{n}_linear/kernel"], w[f"{n}_linear/bias"]) for n in ("d_maxout1", "d_maxout2")]
        self.logit = (w["d_logit/kernel"], w["d_logit/bias"])
        self.units, self.pieces, self.dropout = c["discriminatorUnits"], c["maxoutPieces"], dropout

    def parameters(self):
        return [t for layer in [*self.maxouts, self.logit] for t in layer]

    def __call__(self, images):
        x = images.flatten(1)
        for kernel, bias in self.maxouts:
            x = (x @ kernel + bias).view(-1, self.pieces, self.units).amax(1)
            if self.dropout > 0:
                x = F.dropout(x, self.dropout, training=True)
        kernel, bias = self.logit
        return x @ kernel + bias


class Step:
    def __init__(self, g, d, options):
        self.g, self.d = g, d
        adam = dict(lr=options["learningRate"], betas=(options["beta1"], 0.999), eps=1e-8)
        self.g_opt = torch.optim.Adam(g.parameters(), **adam)
        self.d_opt = torch.optim.Adam(d.parameters(), **adam)

    def __call__(self, real, z_d, z_g):
        with torch.no_grad():
            fake = self.g(z_d)
        self.d_opt.zero_grad(set_to_none=True)
        real_logits, fake_logits = self.d(real), self.d(fake)
        d_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        d_loss.backward()
        self.d_opt.step()
        for p in self.d.parameters():
            p.requires_grad_(False)
        self.g_opt.zero_grad(set_to_none=True)
        logits = self.d(self.g(z_g))
        g_loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        g_loss.backward()
        self.g_opt.step()
        for p in self.d.parameters():
            p.requires_grad_(True)
        return {"discriminator": d_loss.item(), "generator": g_loss.item()}


def main():
    args, spec = parse_args(__doc__)
    c, manifest, batch = spec["architecture"], spec["weights"], spec["batchSize"]
    size = c["imageSize"]
    real = torch.from_numpy(read(args.dir, "real.f32", "<f4").reshape(batch, size, size, 1))

    def build(file, dropout):
        w = load_weights(args.dir, file, manifest, trainable=True)
        return {"generator": Generator(c, w), "discriminator": Discriminator(c, w, dropout)}

    # The check runs without dropout: the two libraries cannot draw the same masks.
    run(args, spec, build, Step, (real,), timed_setting=c["dropout"], check_setting=0.0)


if __name__ == "__main__":
    sys.exit(main())
