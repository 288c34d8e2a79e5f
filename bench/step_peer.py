"""
What the PyTorch training-step peers of bench/train-step.ts share (bench/pytorch-kplusone-step.py,
bench/pytorch-mlp-gan-step.py): their flags, loading tfjs's weights, the parameter-count check, the
same-step check on tfjs's noise, the timed steps and the JSON line they print.
"""

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import torch


def parse_args(doc):
    """The peers' flags; sets torch's thread count and returns (args, config.json of --dir)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--check-steps", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.dir, "config.json")) as f:
        return args, json.load(f)


def read(directory, name, dtype):
    return np.fromfile(os.path.join(directory, name), dtype=dtype)


def load_weights(directory, file, manifest, trainable=False):
    """tfjs's weights by name, in tfjs's layouts; `trainable` turns on every tensor's gradient."""
    data = open(os.path.join(directory, file), "rb").read()
    out = {}
    for spec in manifest:
        n = int(np.prod(spec["shape"])) if spec["shape"] else 1
        t = torch.from_numpy(np.frombuffer(data, "<f4", n, spec["offset"]).reshape(spec["shape"]).copy())
        out[spec["name"]] = t.requires_grad_(True) if trainable else t
    return out


def run(args, spec, build, make_step, batch, timed_setting, check_setting):
    """
    Builds the timed models with build("weights.bin", timed_setting), checks their parameter counts
    against tfjs's, runs --check-steps steps of models built with build("check-weights.bin",
    check_setting) on tfjs's noise, times --steps steps after --warmup, and prints the report.
    `batch`: the step's data arguments, before its two noise batches (D step's, G step's).
    """
    g, d = build("weights.bin", timed_setting)
    counts = {"generator": sum(p.numel() for p in g.parameters()), "discriminator": sum(p.numel() for p in d.parameters())}
    if counts != spec["tfjsParameterCounts"]:
        raise SystemExit(f"trainable parameters: expected tfjs's {spec['tfjsParameterCounts']}, got {counts}")
    size, latent = spec["batchSize"], spec["architecture"]["latentSize"]

    check = []
    if args.check_steps > 0:
        noise = read(args.dir, "noise.f32", "<f4")[: args.check_steps * 2 * size * latent]
        noise = torch.from_numpy(noise.reshape(args.check_steps, 2, size, latent))
        cg, cd = build("check-weights.bin", check_setting)
        step = make_step(cg, cd, spec["trainer"])
        for i in range(args.check_steps):
            d_loss, g_loss = step(*batch, noise[i, 0], noise[i, 1])
            check.append({"discriminator": d_loss, "generator": g_loss})

    step = make_step(g, d, spec["trainer"])
    rng = torch.Generator().manual_seed(1)
    ms = []
    for i in range(args.warmup + args.steps):
        z = torch.randn(2, size, latent, generator=rng)
        start, cpu = time.perf_counter(), time.process_time()
        step(*batch, z[0], z[1])
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
