"""
One ganql DCGAN training step (src/models/dcgan.ts + src/training/dcgan-trainer.ts) in PyTorch
(CPU), as the speed peer of tfjs, and a check that both compute the same step.

    /usr/bin/python3 bench/pytorch-train-step.py --dir DIR --threads 1 --steps 30 --warmup 3 [--check-steps 3]

--steps is per layout. Flags, weight loading, the checks, timing and the report are bench/step_peer.py's.

Driven by bench/train-step.ts, which installs Debian's python3-torch and libopenblas0-pthread
(`apt-get install -y python3-torch libopenblas0-pthread`; the system /usr/bin/python3 only), runs
it with OPENBLAS_NUM_THREADS=1 at --threads 1 and 2, writes DIR and compares the losses. DIR holds:
  config.json   architecture (DcganConfig), trainer options, batch size, tfjs parameter counts, and
                the manifest of weights.bin: [{name, shape, offset}] (tfjs layouts, float32 LE)
  weights.bin   the initial weights of the tfjs generator and discriminator
  real.f32      one real batch [batch, size, size, channels] (NHWC like tfjs)
  noise.f32     --check-steps x 2 noise batches [batch, latentSize]: D step's, then G step's
Prints one JSON line on stdout.

The step (DcganTrainer.trainStep with k = 1, no techniques): D update on the real batch and on
G(z1) (G in training mode, no gradient into G), loss BCE(D(real), 1) + BCE(D(G(z1)), 0) from
logits; then G update with the non-saturating loss BCE(D(G(z2)), 1) (no gradient for D's
weights, as tfjs's minimize(varList) computes none). Adam lr 0.0002, betas (0.5, 0.999), eps 1e-8.

Layouts of the 'same' stride-2 convolutions (kernel k = 5):
  exact:    TensorFlow's alignment: k - s padding in total, floor of half before. Conv2d: an
            explicit asymmetric F.pad; ConvTranspose2d: padding=before, then the extra trailing
            row/column cropped. Loaded with the tfjs weights, it computes the tfjs step.
  standard: the usual PyTorch layers (Conv2d padding=2; ConvTranspose2d padding=2,
            output_padding=1): same shapes, parameters and FLOPs, taps one pixel apart. Timed only.
"""

import os
import sys

import torch
from torch import nn
import torch.nn.functional as F

from step_peer import check_noise, load_weights, parameter_counts, parse_args, read, report, time_steps

LAYOUTS = ("exact", "standard")


def same_padding(size, kernel, stride):
    """TensorFlow's 'same' padding (before, after) of one spatial axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Module):
    """Conv2d with tf's 'same' output size, in either layout."""

    def __init__(self, cin, cout, kernel, stride, size, bias, layout):
        super().__init__()
        before, after = same_padding(size, kernel, stride)
        self.pad = (before, after, before, after) if layout == "exact" and before != after else None
        padding = 0 if self.pad is not None else (before if layout == "exact" else (kernel - 1) // 2)
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding=padding, bias=bias)

    def forward(self, x):
        return self.conv(F.pad(x, self.pad) if self.pad is not None else x)


class SameConvTranspose2d(nn.Module):
    """ConvTranspose2d from size to size * stride (tf's 'same'), in either layout."""

    def __init__(self, cin, cout, kernel, stride, size, bias, layout):
        super().__init__()
        self.out = size * stride
        if layout == "exact":
            # The matching forward conv of tf pads (before, after) = same_padding(out, k, s).
            before, after = same_padding(self.out, kernel, stride)
            self.conv = nn.ConvTranspose2d(cin, cout, kernel, stride, padding=before, bias=bias)
            self.crop = after != before
        else:
            pad = (kernel - 1) // 2
            natural = (size - 1) * stride - 2 * pad + kernel
            self.conv = nn.ConvTranspose2d(cin, cout, kernel, stride, padding=pad, output_padding=self.out - natural, bias=bias)
            self.crop = False

    def forward(self, x):
        y = self.conv(x)
        return y[:, :, : self.out, : self.out] if self.crop else y


class Generator(nn.Module):
    """z [latent] -> image [channels, size, size]; buildGenerator of src/models/dcgan.ts in NCHW."""

    def __init__(self, c, layout):
        super().__init__()
        s, f, k = c["imageSize"] // 4, c["generatorFilters"], c["kernelSize"]
        momentum = 1 - c["batchNormMomentum"]  # Keras's momentum 0.9 is PyTorch's 0.1
        self.shape = (2 * f, s, s)
        self.project = nn.Linear(c["latentSize"], s * s * 2 * f, bias=False)
        self.project_bn = nn.BatchNorm1d(s * s * 2 * f, eps=1e-5, momentum=momentum)
        # -> [2f, s, s] (features in c, h, w order; the loader permutes tf's h, w, c)
        self.up1 = SameConvTranspose2d(2 * f, f, k, 2, s, False, layout)
        self.up1_bn = nn.BatchNorm2d(f, eps=1e-5, momentum=momentum)
        # -> [f, 2s, 2s]
        self.up2 = SameConvTranspose2d(f, c["channels"], k, 2, 2 * s, True, layout)
        # -> [channels, 4s, 4s]

    def forward(self, z):
        x = F.relu(self.project_bn(self.project(z))).view(z.shape[0], *self.shape)
        x = F.relu(self.up1_bn(self.up1(x)))
        return torch.tanh(self.up2(x))


class Discriminator(nn.Module):
    """image [channels, size, size] -> one logit; buildDiscriminator of src/models/dcgan.ts in NCHW."""

    def __init__(self, c, layout):
        super().__init__()
        size, d, k = c["imageSize"], c["discriminatorFilters"], c["kernelSize"]
        self.alpha = c["leakyReluAlpha"]
        self.down1 = SameConv2d(c["channels"], d, k, 2, size, True, layout)
        # -> [d, size/2, size/2]
        self.down2 = SameConv2d(d, 2 * d, k, 2, size // 2, False, layout)
        self.down2_bn = nn.BatchNorm2d(2 * d, eps=1e-5, momentum=1 - c["batchNormMomentum"])
        # -> [2d, size/4, size/4], flattened in c, h, w order (the loader permutes tf's h, w, c)
        self.logit = nn.Linear(2 * d * (size // 4) ** 2, 1)

    def forward(self, x):
        x = F.leaky_relu(self.down1(x), self.alpha)
        x = F.leaky_relu(self.down2_bn(self.down2(x)), self.alpha)
        return self.logit(x.flatten(1))


def hwc_to_chw(h, w, c):
    """Index map: feature (ch, i, j) of a c, h, w flatten is feature (i, j, ch) of tf's h, w, c one."""
    return torch.arange(h * w * c).reshape(h, w, c).permute(2, 0, 1).reshape(-1)


def load_tfjs_weights(g, d, c, directory, manifest):
    """Copies the tfjs weights into g and d, in PyTorch layouts; every weight and parameter used once."""
    tf_weights = load_weights(directory, "weights.bin", manifest)
    s = c["imageSize"] // 4
    g_perm = hwc_to_chw(s, s, 2 * c["generatorFilters"])
    d_perm = hwc_to_chw(s, s, 2 * c["discriminatorFilters"])
    dense = lambda k: k.t()  # noqa: E731  tf [in, out] -> torch [out, in]
    conv = lambda k: k.permute(3, 2, 0, 1)  # noqa: E731  tf conv [kh, kw, in, out] / convT [kh, kw, out, in] -> torch [out, in, ..] / [in, out, ..]
    targets = {
        "g_project/kernel": (g.project.weight, lambda k: dense(k)[g_perm]),
        "g_up1/kernel": (g.up1.conv.weight, conv),
        "g_up2/kernel": (g.up2.conv.weight, conv),
        "g_up2/bias": (g.up2.conv.bias, None),
        "d_down1/kernel": (d.down1.conv.weight, conv),
        "d_down1/bias": (d.down1.conv.bias, None),
        "d_down2/kernel": (d.down2.conv.weight, conv),
        "d_logit/kernel": (d.logit.weight, lambda k: dense(k)[:, d_perm]),
        "d_logit/bias": (d.logit.bias, None),
    }
    for prefix, bn, perm in (("g_project_bn", g.project_bn, g_perm), ("g_up1_bn", g.up1_bn, None), ("d_down2_bn", d.down2_bn, None)):
        reorder = (lambda t, p=perm: t[p]) if perm is not None else None
        for tf_name, tensor in (("gamma", bn.weight), ("beta", bn.bias), ("moving_mean", bn.running_mean), ("moving_variance", bn.running_var)):
            targets[f"{prefix}/{tf_name}"] = (tensor, reorder)
    if set(targets) != set(tf_weights):
        raise SystemExit(f"tfjs weights: expected {sorted(targets)}, got {sorted(tf_weights)}")
    filled = set()
    with torch.no_grad():
        for name, (tensor, transform) in targets.items():
            value = tf_weights[name] if transform is None else transform(tf_weights[name])
            if tuple(value.shape) != tuple(tensor.shape):
                raise SystemExit(f"{name}: expected shape {tuple(tensor.shape)} after the layout change, got {tuple(value.shape)}")
            tensor.copy_(value)
            filled.add(id(tensor))
    missing = [n for n, p in [*g.named_parameters(), *d.named_parameters()] if id(p) not in filled]
    if missing:
        raise SystemExit(f"PyTorch parameters without a tfjs weight: {missing}")


class Step:
    """DcganTrainer.trainStep (k = 1, no techniques) in PyTorch."""

    def __init__(self, g, d, options):
        self.g, self.d = g, d
        adam = dict(lr=options["learningRate"], betas=(options["beta1"], 0.999), eps=1e-8)
        self.g_opt = torch.optim.Adam(g.parameters(), **adam)
        self.d_opt = torch.optim.Adam(d.parameters(), **adam)
        g.train()
        d.train()

    def __call__(self, real, z_d, z_g):
        with torch.no_grad():
            fake = self.g(z_d)
        self.d_opt.zero_grad(set_to_none=True)
        real_logits, fake_logits = self.d(real), self.d(fake)
        d_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + F.binary_cross_entropy_with_logits(
            fake_logits, torch.zeros_like(fake_logits)
        )
        d_loss.backward()
        self.d_opt.step()

        self.d.requires_grad_(False)
        self.g_opt.zero_grad(set_to_none=True)
        logits = self.d(self.g(z_g))
        # Non-saturating: maximise log D(G(z)).
        g_loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        g_loss.backward()
        self.g_opt.step()
        self.d.requires_grad_(True)
        return {"discriminator": d_loss.item(), "generator": g_loss.item()}


def build(c, layout, directory, manifest):
    g, d = Generator(c, layout), Discriminator(c, layout)
    load_tfjs_weights(g, d, c, directory, manifest)
    return g, d


def main():
    args, spec = parse_args(__doc__)
    c, options, batch, manifest = spec["architecture"], spec["trainer"], spec["batchSize"], spec["weights"]
    size, channels, latent = c["imageSize"], c["channels"], c["latentSize"]
    real = read(args.dir, "real.f32", "<f4", batch * size * size * channels)
    real = torch.from_numpy(real.reshape(batch, size, size, channels)).permute(0, 3, 1, 2).contiguous()

    g, d = build(c, "exact", args.dir, manifest)
    counts = parameter_counts({"generator": g, "discriminator": d}, spec)

    check = []
    if args.check_steps > 0:
        noise = check_noise(args, spec, 2)
        step = Step(g, d, options)
        # The check runs on PyTorch's own convolutions: oneDNN's (mkldnn) round differently on some
        # CPUs, enough to move the third step's D loss by 1e-4 on an AMD EPYC (5.8e-6 without them).
        # The timed steps below use oneDNN, PyTorch's default and its fastest here.
        mkldnn = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = False
        check = [step(real, *noise[i]) for i in range(args.check_steps)]
        torch.backends.mkldnn.enabled = mkldnn

    # --steps timed steps of each layout, on noise drawn off the clock.
    rng = torch.Generator().manual_seed(1)
    timings = {}
    for layout in LAYOUTS:
        step = Step(*build(c, layout, args.dir, manifest), options)
        timings[layout] = time_steps(args, step, lambda: (real, *torch.randn(2, batch, latent, generator=rng)))

    # Debian's torch links libblas.so.3, which the alternatives system points at the BLAS installed.
    with open("/proc/self/maps") as f:
        blas = sorted({os.path.basename(line.split()[-1]) for line in f if "blas" in line.split()[-1].lower()})
    report(
        counts,
        check,
        openblasThreads=os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        blasLibraries=blas,
        mkldnn=torch.backends.mkldnn.is_available(),
        timings=timings,
    )


if __name__ == "__main__":
    sys.exit(main())
