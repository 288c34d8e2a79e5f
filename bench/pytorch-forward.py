"""
The shipped generator rebuilt in PyTorch (CPU) from its tfjs layers files, as a speed peer.

    /usr/bin/python3 bench/pytorch-forward.py --generator models/dcgan-mnist/generator \
        --latents z.f32 --count 64 --out images.f32 --threads 1 --seconds 1.5 --batches 1,64,256

Driven by bench/pytorch-forward.ts, which installs python3-torch and libopenblas0-pthread, runs it
once per thread setting, and compares its images with tfjs's. Prints one JSON line on stdout.

Layouts of a 'same' stride-s transposed convolution (kernel k):
  exact:    the tfjs/TensorFlow alignment. TF pads the matching forward conv k-s in total,
            floor((k-s)/2) before; in PyTorch that is padding=before and cropping the (after-before)
            extra trailing rows/cols. Its images match tfjs.
  standard: the usual PyTorch DCGAN layer, padding=(k-1)//2, output_padding=s-1: the same output
            size and FLOPs, taps aligned one pixel apart, so images differ. Timed as a peer only.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def read_layers_model(directory):
    """(layers, weights by name) from directory/model.json + its weight files."""
    with open(os.path.join(directory, "model.json")) as f:
        model = json.load(f)
    topology = model["modelTopology"]
    topology = topology.get("model_config", topology)
    layers = topology["config"]["layers"]
    weights = {}
    for group in model["weightsManifest"]:
        data = b"".join(open(os.path.join(directory, p), "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            if spec.get("dtype", "float32") != "float32" or "quantization" in spec:
                raise SystemExit(f"{directory}: weight {spec['name']}: expected plain float32, got {spec.get('dtype')}")
            n = int(np.prod(spec["shape"])) if spec["shape"] else 1
            weights[spec["name"]] = np.frombuffer(data, dtype="<f4", count=n, offset=offset).reshape(spec["shape"]).copy()
            offset += 4 * n
        if offset != len(data):
            raise SystemExit(f"{directory}: expected {offset} weight bytes, got {len(data)}")
    return layers, weights


def activation(name):
    table = {"linear": None, "relu": nn.ReLU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()}
    if name not in table:
        raise SystemExit(f"activation: expected one of {', '.join(table)}, got {name!r}")
    return table[name]


class Crop(nn.Module):
    """Keeps the first h x w pixels (the exact layout's trailing extra row and column go)."""

    def __init__(self, h, w):
        super().__init__()
        self.h, self.w = h, w

    def forward(self, x):
        return x[:, :, : self.h, : self.w]


class View(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


def build(layers, weights, layout):
    """nn.Sequential equal to the tfjs generator, in NCHW. Only a chain of supported layers."""
    modules = []
    shape = None  # per-sample shape in tfjs terms: [features] or [h, w, c]
    # Feature-wise modules since the last Dense, and that Dense: a Reshape to [h, w, c] reorders their
    # features from h,w,c to c,h,w order, so the reshape itself becomes a free view into NCHW.
    flat_chain = None
    previous = None
    for layer in layers:
        kind, cfg, name = layer["class_name"], layer["config"], layer["config"]["name"]
        inbound = layer.get("inbound_nodes") or []
        if previous is not None and (len(inbound) != 1 or inbound[0][0][0] != previous):
            raise SystemExit(f"layer {name}: expected a plain chain (input from {previous}), got {inbound}")
        previous = name
        w = lambda key: torch.from_numpy(weights[f"{name}/{key}"])  # noqa: E731
        if kind == "InputLayer":
            shape = list(cfg["batch_input_shape"][1:])
            continue
        if kind == "Dense":
            if len(shape) != 1:
                raise SystemExit(f"{name}: expected a flat input, got {shape}")
            m = nn.Linear(shape[0], cfg["units"], bias=cfg["use_bias"])
            m.weight.data = w("kernel").t().contiguous()
            if cfg["use_bias"]:
                m.bias.data = w("bias")
            modules.append(m)
            flat_chain = [m]
            act = activation(cfg["activation"])
            if act is not None:
                modules.append(act)
            shape = [cfg["units"]]
        elif kind == "BatchNormalization":
            axis = cfg["axis"][0] if isinstance(cfg["axis"], list) else cfg["axis"]
            if axis not in (-1, len(shape)):
                raise SystemExit(f"{name}: expected the channel (last) axis, got {axis}")
            features = shape[-1]
            m = (nn.BatchNorm1d if len(shape) == 1 else nn.BatchNorm2d)(features, eps=cfg["epsilon"])
            m.running_mean.data = w("moving_mean")
            m.running_var.data = w("moving_variance")
            m.weight.data = w("gamma") if cfg.get("scale", True) else torch.ones(features)
            m.bias.data = w("beta") if cfg.get("center", True) else torch.zeros(features)
            modules.append(m)
            if flat_chain is not None and len(shape) == 1:
                flat_chain.append(m)
        elif kind in ("ReLU", "LeakyReLU", "Activation"):
            if kind == "ReLU":
                if cfg.get("max_value") is not None:
                    raise SystemExit(f"{name}: expected ReLU without max_value, got {cfg['max_value']}")
                modules.append(nn.ReLU())
            elif kind == "LeakyReLU":
                modules.append(nn.LeakyReLU(cfg["alpha"]))
            else:
                act = activation(cfg["activation"])
                if act is not None:
                    modules.append(act)
        elif kind == "Reshape":
            target = list(cfg["target_shape"])
            if len(shape) != 1 or len(target) != 3 or flat_chain is None:
                raise SystemExit(f"{name}: expected Dense ... -> Reshape to [h, w, c], got {shape} -> {target}")
            h, wd, c = target
            # new feature (ch, i, j) = old feature (i, j, ch)
            perm = torch.arange(h * wd * c).reshape(h, wd, c).permute(2, 0, 1).reshape(-1)
            for m in flat_chain:
                if isinstance(m, nn.Linear):
                    m.weight.data = m.weight.data[perm].contiguous()
                    if m.bias is not None:
                        m.bias.data = m.bias.data[perm].contiguous()
                else:
                    for t in (m.running_mean, m.running_var, m.weight, m.bias):
                        t.data = t.data[perm].contiguous()
            modules.append(View([c, h, wd]))
            flat_chain = None
            shape = target
        elif kind == "Conv2DTranspose":
            if cfg.get("data_format", "channels_last") != "channels_last" or cfg.get("dilation_rate", [1, 1]) not in ([1, 1], 1):
                raise SystemExit(f"{name}: expected channels_last and no dilation, got {cfg}")
            (kh, kw), (sh, sw) = cfg["kernel_size"], cfg["strides"]
            h, wd, cin = shape
            # tfjs kernel [kh, kw, out, in]; PyTorch ConvTranspose2d weight [in, out, kh, kw]; neither flips.
            kernel = w("kernel").permute(3, 2, 0, 1).contiguous()
            cout = cfg["filters"]
            if cfg["padding"] == "same":
                out_h, out_w = h * sh, wd * sw
                before = (max(kh - sh, 0) // 2, max(kw - sw, 0) // 2)
                after = (max(kh - sh, 0) - before[0], max(kw - sw, 0) - before[1])
                if layout == "exact":
                    m = nn.ConvTranspose2d(cin, cout, (kh, kw), (sh, sw), padding=before, bias=cfg["use_bias"])
                    extra = (after[0] - before[0], after[1] - before[1])
                else:
                    pad = ((kh - 1) // 2, (kw - 1) // 2)
                    natural = ((h - 1) * sh - 2 * pad[0] + kh, (wd - 1) * sw - 2 * pad[1] + kw)
                    m = nn.ConvTranspose2d(
                        cin, cout, (kh, kw), (sh, sw), padding=pad,
                        output_padding=(out_h - natural[0], out_w - natural[1]), bias=cfg["use_bias"],
                    )
                    extra = (0, 0)
            elif cfg["padding"] == "valid":
                out_h, out_w = (h - 1) * sh + max(kh, sh), (wd - 1) * sw + max(kw, sw)
                m = nn.ConvTranspose2d(cin, cout, (kh, kw), (sh, sw), output_padding=(max(sh - kh, 0), max(sw - kw, 0)), bias=cfg["use_bias"])
                extra = (0, 0)
            else:
                raise SystemExit(f"{name}: expected padding same or valid, got {cfg['padding']!r}")
            m.weight.data = kernel
            if cfg["use_bias"]:
                m.bias.data = w("bias")
            modules.append(m)
            if extra != (0, 0):
                if min(extra) < 0:
                    raise SystemExit(f"{name}: padding before > after ({before} > {after}) is not mapped")
                modules.append(Crop(out_h, out_w))
            act = activation(cfg["activation"])
            if act is not None:
                modules.append(act)
            shape = [out_h, out_w, cout]
        else:
            raise SystemExit(f"layer {name}: {kind} is not mapped to PyTorch (Dense, BatchNormalization, ReLU, LeakyReLU, Activation, Reshape, Conv2DTranspose are)")
    model = nn.Sequential(*modules).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, shape


def time_forward(model, latent_size, batch, seconds):
    z = torch.randn(batch, latent_size, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        for _ in range(3):
            model(z)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            model(z)
            n += 1
        elapsed = time.perf_counter() - start
    return {"batch": batch, "samplesPerSecond": batch * n / elapsed, "msPerBatch": 1000 * elapsed / n}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", required=True, help="folder with the tfjs layers model.json + weights")
    parser.add_argument("--latents", help="float32 little-endian [count, latentSize] file to run once for comparison")
    parser.add_argument("--count", type=int, default=0, help="rows in --latents")
    parser.add_argument("--out", help="where to write the images of --latents (float32, NHWC like tfjs)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--seconds", type=float, default=1.5, help="timing per batch size and layout")
    parser.add_argument("--batches", default="1,64,256")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    layers, weights = read_layers_model(args.generator)
    if not layers or layers[0]["class_name"] != "InputLayer":
        raise SystemExit(f"{args.generator}: expected an InputLayer first, got {layers[0]['class_name'] if layers else 'no layers'}")
    models = {layout: build(layers, weights, layout) for layout in ("exact", "standard")}
    latent_size = layers[0]["config"]["batch_input_shape"][1]
    h, w, c = models["exact"][1]

    if args.latents:
        z = np.fromfile(args.latents, dtype="<f4")
        if z.size != args.count * latent_size:
            raise SystemExit(f"--latents: expected {args.count * latent_size} floats, got {z.size}")
        with torch.inference_mode():
            images = models["exact"][0](torch.from_numpy(z.reshape(args.count, latent_size)))
        if tuple(images.shape) != (args.count, c, h, w):
            raise SystemExit(f"output shape: expected {(args.count, c, h, w)}, got {tuple(images.shape)}")
        images.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").tofile(args.out)

    timings = {
        layout: [time_forward(model, latent_size, int(b), args.seconds) for b in args.batches.split(",")]
        for layout, (model, _) in models.items()
    }
    # Debian's torch links libblas.so.3, which the alternatives system points at the BLAS installed.
    with open("/proc/self/maps") as f:
        blas = sorted({os.path.basename(line.split()[-1]) for line in f if "blas" in line.split()[-1].lower()})
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "blasLibraries": blas,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "timings": timings,
    }))


if __name__ == "__main__":
    sys.exit(main())
