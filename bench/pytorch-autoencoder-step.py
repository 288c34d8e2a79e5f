"""
One ganql sparse autoencoder training step (src/models/sparse-autoencoder.ts with
src/training/autoencoder-trainer.ts's step, the options of src/training/autoencoder-session.ts) in
PyTorch (CPU), as the speed peer of tfjs, and a check that both compute the same step.

    /usr/bin/python3 bench/pytorch-autoencoder-step.py --dir DIR --threads 1 --steps 20 --warmup 3 [--check-steps 1]

Driven by bench/train-step.ts (see bench/pytorch-train-step.py for the setup). DIR holds:
  config.json       architecture (SparseAutoencoderConfig), trainer options (AutoencoderTrainerOptions),
                    batch size, tfjs parameter counts and the manifest of weights.bin / check-weights.bin:
                    [{name, shape, offset}] (tfjs layouts)
  weights.bin       initial weights of the timed tfjs networks (input noise on)
  check-weights.bin initial weights of the check networks (input noise 0: two libraries cannot draw the same)
  images.f32        one batch [batch, 28, 28, 1] in [-1, 1]
Prints one JSON line on stdout.

The step (AutoencoderTrainer.trainStep): the encoder (flatten, Gaussian noise, sigmoid hidden layers,
sigmoid code) and the decoder (the hidden sizes reversed with ReLU, tanh pixels) minimise
MSE(decoder(encoder(x + noise)), x) + beta * the mean over the units of the sparse layers of
KL(rho || rho_hat), rho_hat a unit's batch mean clipped to [1e-6, 1 - 1e-6]; one Adam over both
networks (lr, beta1 from config, beta2 0.999, eps 1e-8). Weights keep tfjs's [in, out] layout (y = x W + b).
"""

import sys

import torch
import torch.nn.functional as F

from step_peer import load_weights, parse_args, read, run

# AutoencoderTrainer's clip of rho_hat, which keeps the logs finite for dead or saturated units.
RHO_HAT_EPSILON = 1e-6


class Encoder:
    """buildEncoder: flatten, noise (training only), enc_hidden1.. (sigmoid), enc_code (sigmoid)."""

    def __init__(self, c, w, noise):
        self.names = [f"enc_hidden{i + 1}" for i in range(len(c["hiddenUnits"]))] + ["enc_code"]
        self.layers = [(w[f"{n}/kernel"], w[f"{n}/bias"]) for n in self.names]
        self.noise = noise

    def parameters(self):
        return [t for layer in self.layers for t in layer]

    def __call__(self, images):
        """The code and every layer's activation by name."""
        x = images.flatten(1)
        if self.noise > 0:
            x = x + torch.randn_like(x) * self.noise
        activations = {}
        for name, (kernel, bias) in zip(self.names, self.layers):
            x = torch.sigmoid(x @ kernel + bias)
            activations[name] = x
        return x, activations


class Decoder:
    """buildDecoder: dec_hidden1.. (ReLU, the encoder's sizes reversed), dec_pixels (tanh), reshaped to the image."""

    def __init__(self, c, w):
        self.hidden = [(w[f"dec_hidden{i + 1}/kernel"], w[f"dec_hidden{i + 1}/bias"]) for i in range(len(c["hiddenUnits"]))]
        self.pixels = (w["dec_pixels/kernel"], w["dec_pixels/bias"])
        self.size = c["imageSize"]

    def parameters(self):
        return [t for layer in [*self.hidden, self.pixels] for t in layer]

    def __call__(self, code):
        x = code
        for kernel, bias in self.hidden:
            x = F.relu(x @ kernel + bias)
        kernel, bias = self.pixels
        return torch.tanh(x @ kernel + bias).view(-1, self.size, self.size, 1)


def kl_sparsity(activations, target):
    """klSparsityPenalty: KL(rho || rho_hat_j) averaged over every unit j of every activation."""
    rho_hat = torch.cat([a.mean(0) for a in activations]).clamp(RHO_HAT_EPSILON, 1 - RHO_HAT_EPSILON)
    return (target * torch.log(target / rho_hat) + (1 - target) * torch.log((1 - target) / (1 - rho_hat))).mean()


class Step:
    def __init__(self, encoder, decoder, options):
        self.encoder, self.decoder = encoder, decoder
        self.opt = torch.optim.Adam(encoder.parameters() + decoder.parameters(), lr=options["learningRate"], betas=(options["beta1"], 0.999), eps=1e-8)
        self.sparse = options["sparseLayers"]
        self.target, self.weight = options["sparsityTarget"], options["sparsityWeight"]

    def __call__(self, images):
        self.opt.zero_grad(set_to_none=True)
        code, activations = self.encoder(images)
        mse = ((self.decoder(code) - images) ** 2).mean()
        penalty = self.weight * kl_sparsity([activations[n] for n in self.sparse], self.target) if self.weight > 0 else torch.zeros(())
        (mse + penalty).backward()
        self.opt.step()
        return {"reconstruction": mse.item(), "sparsity": penalty.item()}


def main():
    args, spec = parse_args(__doc__)
    c, manifest, batch = spec["architecture"], spec["weights"], spec["batchSize"]
    size = c["imageSize"]
    images = torch.from_numpy(read(args.dir, "images.f32", "<f4", batch * size * size).reshape(batch, size, size, 1))

    def build(file, noise):
        w = load_weights(args.dir, file, manifest, trainable=True)
        return {"encoder": Encoder(c, w, noise), "decoder": Decoder(c, w)}

    # The check runs without the input noise: the two libraries cannot draw the same.
    run(args, spec, build, Step, (images,), timed_setting=c["inputNoise"], check_setting=0.0, noise_batches=0)


if __name__ == "__main__":
    sys.exit(main())
