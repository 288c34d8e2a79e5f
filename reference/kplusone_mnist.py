#!/usr/bin/python3
"""PyTorch reference of Salimans et al. (2016) semi-supervised K+1 GAN with feature matching, on ganql's data.

Follows the authors' released MNIST code (openai/improved-gan, mnist_svhn_cifar10/train_mnist_feature_matching.py
and nn.py): the same networks, noise, weight normalisation, data-dependent initialisation, losses, Adam variant,
batches and parameter averaging; see reference/README.md for each choice beside the line it follows.

The data is ganql's own split, written by reference/export-split.ts (run automatically when the files are missing),
so the labelled digits are exactly the ones ganql's selectLabelled picks for the same --seed.

Prints one JSON object per line: first the run's settings, then one line per epoch.
"""

import argparse
import json
import os
import subprocess
import sys
import time

# Single-threaded BLAS by default: the machine is shared; --threads raises torch's own pool.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PIXELS = 28 * 28
CLASSES = 10


# ---------------------------------------------------------------- data


def load_split(cache, dataset, split):
    """(images float32 [N, 784] in [0, 1], labels int64 [N]) from the exporter's files."""
    base = os.path.join(cache, f"{dataset}-{split}")
    with open(base + ".json") as f:
        count = json.load(f)["count"]
    images = np.fromfile(base + "-images.f32", dtype="<f4").reshape(count, PIXELS)
    labels = np.fromfile(base + "-labels.u8", dtype=np.uint8).astype(np.int64)
    if labels.shape[0] != count:
        raise ValueError(f"{base}-labels.u8: expected {count} labels, got {labels.shape[0]}")
    return images, labels


def load_data(cache, dataset, labels_per_class, seed):
    """Train and test splits plus ganql's labelled indices for (labels_per_class, seed), exporting them if missing."""
    labelled_file = os.path.join(cache, f"{dataset}-labelled-{labels_per_class}-seed{seed}.json")
    needed = [labelled_file] + [os.path.join(cache, f"{dataset}-{s}-images.f32") for s in ("train", "test")]
    if not all(os.path.exists(p) for p in needed):
        cmd = ["npx", "tsx", os.path.join("reference", "export-split.ts"), "--dataset", dataset, "--out", cache,
               "--labels-per-class", str(labels_per_class), "--seeds", str(seed)]
        print(json.dumps({"exporting": " ".join(cmd)}), file=sys.stderr)
        subprocess.run(cmd, cwd=REPO, check=True, stdout=sys.stderr)
    train_x, train_y = load_split(cache, dataset, "train")
    test_x, test_y = load_split(cache, dataset, "test")
    with open(labelled_file) as f:
        indices = np.asarray(json.load(f)["indices"], dtype=np.int64)
    counts = np.bincount(train_y[indices], minlength=CLASSES)
    if not np.all(counts == labels_per_class):
        raise ValueError(f"{labelled_file}: expected {labels_per_class} labels per class, got {counts.tolist()}")
    return train_x, train_y, test_x, test_y, indices


# ---------------------------------------------------------------- networks


class WeightNormDense(torch.nn.Module):
    """nn.DenseLayer: W = theta * scale / ||theta||_col, theta ~ N(0, 0.1), scale trained only when asked."""

    def __init__(self, n_in, n_out, relu=True, train_scale=False):
        super().__init__()
        self.relu = relu
        self.theta = torch.nn.Parameter(torch.randn(n_in, n_out) * 0.1)
        scale = torch.ones(n_out)
        if train_scale:
            self.weight_scale = torch.nn.Parameter(scale)
        else:
            # Untrained, so not averaged either: the released code averages trainable parameters only.
            self.register_buffer("weight_scale", scale)
        self.b = torch.nn.Parameter(torch.zeros(n_out))

    def forward(self, x, init=False):
        w = self.theta * (self.weight_scale / torch.sqrt(torch.sum(self.theta ** 2, dim=0)))
        a = x @ w
        if init:
            # Data-dependent init: each unit's pre-activation gets mean 0, std 1 on the init batch.
            m = a.mean(dim=0)
            a = a - m
            stdv = torch.sqrt(torch.mean(a ** 2, dim=0))
            a = a / stdv
            with torch.no_grad():
                self.weight_scale.copy_(self.weight_scale / stdv)
                self.b.copy_(-m / stdv)
        else:
            a = a + self.b
        return F.relu(a) if self.relu else a


class Discriminator(torch.nn.Module):
    """784-1000-500-250-250-250-10, Gaussian noise sigma 0.3 on the input and 0.5 after each hidden layer."""

    SIZES = (PIXELS, 1000, 500, 250, 250, 250)

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.ModuleList(WeightNormDense(a, b) for a, b in zip(self.SIZES[:-1], self.SIZES[1:]))
        self.out = WeightNormDense(self.SIZES[-1], CLASSES, relu=False, train_scale=True)

    def forward(self, x, noise=True, init=False):
        """(logits, last hidden layer's output before its noise: the feature-matching layer, layers[-3])."""
        sigma = 0.3
        h = x
        for layer in self.hidden:
            if noise:
                h = h + sigma * torch.randn_like(h)
            h = layer(h, init=init)
            sigma = 0.5
        features = h
        if noise:
            h = h + 0.5 * torch.randn_like(h)
        return self.out(h, init=init), features


class BatchNormShift(torch.nn.Module):
    """nn.batch_norm with g=None: batch statistics always (the generator runs with deterministic=False), a learnt shift, no scale."""

    def __init__(self, n):
        super().__init__()
        self.b = torch.nn.Parameter(torch.zeros(n))

    def forward(self, x):
        c = x - x.mean(dim=0)
        return c / torch.sqrt(1e-6 + torch.mean(c ** 2, dim=0)) + self.b


def glorot_uniform(n_in, n_out):
    limit = np.sqrt(6.0 / (n_in + n_out))
    return (torch.rand(n_in, n_out) * 2 - 1) * limit


class Generator(torch.nn.Module):
    """z ~ U(0, 1)^100 -> 500 -> 500 (batchnorm, softplus) -> 784 sigmoid with a weight-normalised last layer."""

    def __init__(self):
        super().__init__()
        self.w1 = torch.nn.Parameter(glorot_uniform(100, 500))
        self.bn1 = BatchNormShift(500)
        self.w2 = torch.nn.Parameter(glorot_uniform(500, 500))
        self.bn2 = BatchNormShift(500)
        self.w3 = torch.nn.Parameter(glorot_uniform(500, PIXELS))
        self.w3_scale = torch.nn.Parameter(torch.ones(PIXELS))
        self.b3 = torch.nn.Parameter(torch.zeros(PIXELS))

    def forward(self, n):
        z = torch.rand(n, 100)
        h = F.softplus(self.bn1(z @ self.w1))
        h = F.softplus(self.bn2(h @ self.w2))
        w3 = self.w3 * (self.w3_scale / torch.sqrt(1e-6 + torch.sum(self.w3 ** 2, dim=0)))
        return torch.sigmoid(h @ w3 + self.b3)


# ---------------------------------------------------------------- training


class Adam:
    """nn.adam_updates: bias-corrected moments, epsilon 1e-8 inside the square root."""

    def __init__(self, params, beta1, beta2=0.999):
        self.params = list(params)
        self.beta1, self.beta2 = beta1, beta2
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    @torch.no_grad()
    def step(self, lr):
        self.t += 1
        c1 = 1 - self.beta1 ** self.t
        c2 = 1 - self.beta2 ** self.t
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m.mul_(self.beta1).add_(g, alpha=1 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
            p.sub_(lr * (m / c1) / torch.sqrt(v / c2 + 1e-8))
            p.grad = None


class ParameterAverage:
    """disc_param_avg: a <- a + rate (p - a) from zeros, no bias correction unless asked; test error uses it."""

    def __init__(self, params, rate, bias_correction):
        self.params = list(params)
        self.rate = rate
        self.bias_correction = bias_correction
        self.avg = [torch.zeros_like(p) for p in self.params]
        self.steps = 0

    @torch.no_grad()
    def update(self):
        self.steps += 1
        for p, a in zip(self.params, self.avg):
            a.add_(p - a, alpha=self.rate)

    @torch.no_grad()
    def swap(self):
        """Exchanges the live parameters with the averages (call again to swap back)."""
        correction = 1 - (1 - self.rate) ** self.steps if self.bias_correction else 1.0
        for p, a in zip(self.params, self.avg):
            live = p.detach().clone()
            p.copy_(a / correction)
            a.copy_(live * correction)


def log_sum_exp(x):
    return torch.logsumexp(x, dim=1)


def disc_losses(disc, x_lab, y_lab, x_unl, x_fake):
    """(loss_lab, loss_unl, train_err): the K+1 losses with the fake class's logit fixed at 0."""
    out_lab, _ = disc(x_lab)
    loss_lab = -out_lab.gather(1, y_lab[:, None]).mean() + log_sum_exp(out_lab).mean()
    train_err = (out_lab.argmax(dim=1) != y_lab).float().mean()
    if x_unl is None:
        return loss_lab, None, train_err
    out_unl, _ = disc(x_unl)
    out_fake, _ = disc(x_fake)
    l_unl = log_sum_exp(out_unl)
    loss_unl = -0.5 * l_unl.mean() + 0.5 * F.softplus(l_unl).mean() + 0.5 * F.softplus(log_sum_exp(out_fake)).mean()
    return loss_lab, loss_unl, train_err


@torch.no_grad()
def test_error(disc, x, y, batch_size):
    """Mean over test batches of the error with noise off (test_batch, deterministic=True)."""
    errs = []
    for first in range(0, x.shape[0] - batch_size + 1, batch_size):
        logits, _ = disc(x[first:first + batch_size], noise=False)
        errs.append((logits.argmax(dim=1) != y[first:first + batch_size]).float().mean().item())
    return float(np.mean(errs))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist")
    p.add_argument("--labels-per-class", type=int, default=10, help="labelled examples per class (released --count, default 10)")
    p.add_argument("--seed", type=int, default=1, help="ganql's label-choice seed, and the seed of every random draw here")
    p.add_argument("--epochs", type=int, default=300, help="released: 300")
    p.add_argument("--batch-size", type=int, default=100, help="released: 100")
    p.add_argument("--lr", type=float, default=0.003, help="Adam learning rate, constant in the released MNIST script")
    p.add_argument("--lr-decay-epochs", type=int, default=0,
                   help="decay the learning rate linearly to 0 over the last N epochs (released MNIST: 0, constant; CIFAR: 400 of 1200)")
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--unlabeled-weight", type=float, default=1.0)
    p.add_argument("--avg-rate", type=float, default=0.0001, help="rate of the parameter average the test error uses")
    p.add_argument("--avg-bias-correction", action="store_true", help="divide the average by 1-(1-rate)^steps (released: no)")
    p.add_argument("--init-count", type=int, default=500, help="images for the data-dependent initialisation")
    p.add_argument("--supervised-only", action="store_true", help="the same D trained on the labelled examples alone")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache", default=os.path.join(HERE, ".cache"), help="where the exported split lives")
    p.add_argument("--save", help="write the final D, G and averaged D here (torch.save)")
    args = p.parse_args(argv)
    for name in ("labels_per_class", "epochs", "batch_size", "threads", "init_count"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')}: expected a positive integer, got {getattr(args, name)}")
    if args.lr_decay_epochs < 0:
        p.error(f"--lr-decay-epochs: expected a non-negative integer, got {args.lr_decay_epochs}")
    return args


def emit(record):
    print(json.dumps(record), flush=True)


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)

    train_x, train_y, test_x, test_y, labelled = load_data(args.cache, args.dataset, args.labels_per_class, args.seed)
    txs = torch.from_numpy(train_x[labelled])
    tys = torch.from_numpy(train_y[labelled])
    unl = torch.from_numpy(train_x)
    test_xt, test_yt = torch.from_numpy(test_x), torch.from_numpy(test_y)
    bs = args.batch_size
    batches = unl.shape[0] // bs

    disc = Discriminator()
    gen = Generator()
    with torch.no_grad():
        disc(torch.from_numpy(train_x[rng.permutation(train_x.shape[0])[:args.init_count]]), noise=True, init=True)
    disc_params = [p for p in disc.parameters() if p.requires_grad]
    disc_opt = Adam(disc_params, args.beta1)
    gen_opt = Adam(gen.parameters(), args.beta1)
    avg = ParameterAverage(disc_params, args.avg_rate, args.avg_bias_correction)

    emit({"settings": {k: v for k, v in vars(args).items() if k not in ("cache", "save")},
          "train": int(unl.shape[0]), "test": int(test_xt.shape[0]), "labelled": int(txs.shape[0]),
          "steps_per_epoch": batches, "torch": torch.__version__})

    for epoch in range(1, args.epochs + 1):
        begin = time.time()
        # The CIFAR script's schedule, lr * min(1, epochs_left / N), counted from epoch 0 as there.
        lr = args.lr if args.lr_decay_epochs == 0 else args.lr * min(1.0, (args.epochs - (epoch - 1)) / args.lr_decay_epochs)
        # Labelled examples tiled to the unlabelled set's length, each tile in its own order.
        tiles = -(-unl.shape[0] // txs.shape[0])
        order = np.concatenate([rng.permutation(txs.shape[0]) for _ in range(tiles)])
        lab_x, lab_y = txs[order], tys[order]
        unl_x = unl[rng.permutation(unl.shape[0])]
        unl2_x = unl[rng.permutation(unl.shape[0])]

        sums = {"loss_lab": 0.0, "loss_unl": 0.0, "loss_gen": 0.0, "train_err": 0.0}
        for t in range(batches):
            s = slice(t * bs, (t + 1) * bs)
            if args.supervised_only:
                loss_lab, loss_unl, train_err = disc_losses(disc, lab_x[s], lab_y[s], None, None)
                loss = loss_lab
            else:
                with torch.no_grad():
                    fake = gen(bs)
                loss_lab, loss_unl, train_err = disc_losses(disc, lab_x[s], lab_y[s], unl_x[s], fake)
                loss = loss_lab + args.unlabeled_weight * loss_unl
            loss.backward()
            # Theano applies every update from the step's starting values: average first, then step.
            avg.update()
            disc_opt.step(lr)
            sums["loss_lab"] += loss_lab.item()
            sums["train_err"] += train_err.item()
            if args.supervised_only:
                continue
            sums["loss_unl"] += loss_unl.item()

            # Feature matching on the mean of D's last hidden layer; only G's parameters move.
            for p in disc_params:
                p.requires_grad_(False)
            _, feat_fake = disc(gen(bs))
            with torch.no_grad():
                _, feat_real = disc(unl2_x[s])
            loss_gen = torch.mean((feat_fake.mean(dim=0) - feat_real.mean(dim=0)) ** 2)
            loss_gen.backward()
            for p in disc_params:
                p.requires_grad_(True)
            gen_opt.step(lr)
            sums["loss_gen"] += loss_gen.item()
        train_seconds = time.time() - begin

        test_err_live = test_error(disc, test_xt, test_yt, bs)
        avg.swap()
        test_err = test_error(disc, test_xt, test_yt, bs)
        avg.swap()
        record = {"epoch": epoch, "lr": lr, **{k: round(v / batches, 5) for k, v in sums.items()},
                  "test_err": round(test_err, 5), "test_err_live": round(test_err_live, 5),
                  "seconds": round(time.time() - begin, 2), "train_seconds": round(train_seconds, 2)}
        if args.supervised_only:
            del record["loss_unl"], record["loss_gen"]
        emit(record)

    if args.save:
        avg.swap()
        averaged = {k: v.clone() for k, v in disc.state_dict().items()}
        avg.swap()
        torch.save({"disc": disc.state_dict(), "disc_avg": averaged, "gen": gen.state_dict(), "args": vars(args)}, args.save)


if __name__ == "__main__":
    main(sys.argv[1:])
