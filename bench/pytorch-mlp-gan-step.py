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

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load_weights(directory, file, manifest):
    data = open(os.path.join(directory, file), "rb").read()
    out = {}
    for spec in manifest:
        n = int(np.prod(spec["shape"])) if spec["shape"] else 1
        out[spec["name"]] = torch.from_numpy(np.frombuffer(data, "<f4", n, spec["offset"]).reshape(spec["shape"]).copy()).requires_grad_(True)
    return out


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
        return d_loss.item(), g_loss.item()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--check-steps", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.dir, "config.json")) as f:
        spec = json.load(f)
    c, options, batch, manifest = spec["architecture"], spec["trainer"], spec["batchSize"], spec["weights"]
    size, latent = c["imageSize"], c["latentSize"]
    real = torch.from_numpy(np.fromfile(os.path.join(args.dir, "real.f32"), dtype="<f4").reshape(batch, size, size, 1))

    def build(file, dropout):
        w = load_weights(args.dir, file, manifest)
        return Generator(c, w), Discriminator(c, w, dropout)

    g, d = build("weights.bin", c["dropout"])
    counts = {"generator": sum(p.numel() for p in g.parameters()), "discriminator": sum(p.numel() for p in d.parameters())}
    if counts != spec["tfjsParameterCounts"]:
        raise SystemExit(f"trainable parameters: expected tfjs's {spec['tfjsParameterCounts']}, got {counts}")

    check = []
    if args.check_steps > 0:
        noise = np.fromfile(os.path.join(args.dir, "noise.f32"), dtype="<f4")[: args.check_steps * 2 * batch * latent]
        noise = torch.from_numpy(noise.reshape(args.check_steps, 2, batch, latent))
        cg, cd = build("check-weights.bin", 0.0)
        step = Step(cg, cd, options)
        for i in range(args.check_steps):
            d_loss, g_loss = step(real, noise[i, 0], noise[i, 1])
            check.append({"discriminator": d_loss, "generator": g_loss})

    step = Step(g, d, options)
    rng = torch.Generator().manual_seed(1)
    ms = []
    for i in range(args.warmup + args.steps):
        z = torch.randn(2, batch, latent, generator=rng)
        start, cpu = time.perf_counter(), time.process_time()
        step(real, z[0], z[1])
        if i >= args.warmup:
            ms.append((1000 * (time.perf_counter() - start), 1000 * (time.process_time() - cpu)))
    wall = [m[0] for m in ms]
    print(json.dumps({
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "parameterCounts": counts,
        "check": check,
        "timing": {"msPerStep": statistics.median(wall), "min": min(wall), "max": max(wall), "steps": len(wall), "cpuMsPerStep": statistics.median([m[1] for m in ms])},
    }))


if __name__ == "__main__":
    sys.exit(main())
