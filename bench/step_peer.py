"""
What the PyTorch training-step peers of bench/train-step.ts share (bench/pytorch-train-step.py,
bench/pytorch-kplusone-step.py, bench/pytorch-mlp-gan-step.py, bench/pytorch-autoencoder-step.py):
their flags, loading tfjs's weights and batches, the parameter-count check, the check steps' noise,
the timed steps and the JSON line they print.
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
    parser.add_argument("--dir", required=True, help="folder written by bench/train-step.ts")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--check-steps", type=int, default=0, help="steps on tfjs's weights, batches and noise whose losses are reported")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.dir, "config.json")) as f:
        return args, json.load(f)


def read(directory, name, dtype, size=None):
    """A raw little-endian file of --dir; with `size`, checks it holds that many values."""
    data = np.fromfile(os.path.join(directory, name), dtype=dtype)
    if size is not None and data.size != size:
        raise SystemExit(f"{name}: expected {size} values, got {data.size}")
    return data


def load_weights(directory, file, manifest, trainable=False):
    """tfjs's weights by name, in tfjs's layouts; `trainable` turns on every tensor's gradient."""
    data = open(os.path.join(directory, file), "rb").read()
    out = {}
    for spec in manifest:
        n = int(np.prod(spec["shape"])) if spec["shape"] else 1
        t = torch.from_numpy(np.frombuffer(data, "<f4", n, spec["offset"]).reshape(spec["shape"]).copy())
        out[spec["name"]] = t.requires_grad_(True) if trainable else t
    return out


def parameter_counts(networks, spec):
    """Trainable parameters of each of {name: network}, which must equal tfjs's (config.json)."""
    counts = {name: sum(p.numel() for p in net.parameters()) for name, net in networks.items()}
    if counts != spec["tfjsParameterCounts"]:
        raise SystemExit(f"trainable parameters: expected tfjs's {spec['tfjsParameterCounts']}, got {counts}")
    return counts


def check_noise(args, spec, batches):
    """noise.f32 as [--check-steps, batches, batch size, latentSize]: each check step's noise batches."""
    size, latent = spec["batchSize"], spec["architecture"]["latentSize"]
    n = args.check_steps * batches * size * latent
    noise = read(args.dir, "noise.f32", "<f4")
    if noise.size < n:
        raise SystemExit(f"noise.f32: expected at least {n} floats, got {noise.size}")
    return torch.from_numpy(noise[:n].reshape(args.check_steps, batches, size, latent))


def time_steps(args, step, inputs):
    """Median wall and CPU ms of --steps calls step(*inputs()) after --warmup; inputs() runs off the clock."""
    ms = []
    for i in range(args.warmup + args.steps):
        x = inputs()
        start, cpu = time.perf_counter(), time.process_time()
        step(*x)
        if i >= args.warmup:
            ms.append((1000 * (time.perf_counter() - start), 1000 * (time.process_time() - cpu)))
    wall = [m[0] for m in ms]
    return {"msPerStep": statistics.median(wall), "min": min(wall), "max": max(wall), "steps": len(wall), "cpuMsPerStep": statistics.median([m[1] for m in ms])}


def report(counts, check, **fields):
    """The one JSON line bench/train-step.ts reads: versions, parameter counts, check losses and `fields`."""
    print(json.dumps({
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "parameterCounts": counts,
        "check": check,
        **fields,
    }))


def run(args, spec, build, make_step, batch, timed_setting, check_setting, noise_batches=2):
    """
    Builds the timed networks with build("weights.bin", timed_setting) ({name: network}, in tfjs's
    order), checks their parameter counts against tfjs's, runs --check-steps steps of networks built
    with build("check-weights.bin", check_setting) on tfjs's noise, times --steps steps after
    --warmup, and prints the report. make_step(*networks, trainer options) returns the step:
    step(*batch, *noise) -> {loss name: value}, `batch` its data arguments, `noise` its
    `noise_batches` latent batches (D step's, G step's; none for a step without a latent).
    """
    networks = build("weights.bin", timed_setting)
    counts = parameter_counts(networks, spec)

    check = []
    if args.check_steps > 0:
        noise = check_noise(args, spec, noise_batches) if noise_batches > 0 else [()] * args.check_steps
        step = make_step(*build("check-weights.bin", check_setting).values(), spec["trainer"])
        check = [step(*batch, *noise[i]) for i in range(args.check_steps)]

    step = make_step(*networks.values(), spec["trainer"])
    rng = torch.Generator().manual_seed(1)
    shape = (noise_batches, spec["batchSize"], spec["architecture"]["latentSize"]) if noise_batches > 0 else None
    timing = time_steps(args, step, lambda: (*batch, *(torch.randn(shape, generator=rng) if shape else ())))
    report(counts, check, timing=timing)
