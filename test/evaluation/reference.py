"""Independent reference values for test/evaluation/reference.test.ts.

Reads JSON {"probs": N x K, "splits": [s, ...], "features1": N1 x D, "features2": N2 x D} on stdin
and prints JSON {"inception": [{"splits", "mean", "std"}, ...], "fid": value}:
  - Inception Score exactly as OpenAI improved-gan inception_score/model.py (no shuffle);
  - FID as pytorch-fid / TTUR: numpy mean and np.cov(rowvar=False), scipy.linalg.sqrtm of S1 S2.
Needs Debian's python3-numpy and python3-scipy (run with /usr/bin/python3).
"""
import json
import sys

import numpy as np
from scipy import linalg


def inception_score(preds, splits):
    scores = []
    for i in range(splits):
        part = preds[(i * preds.shape[0] // splits):((i + 1) * preds.shape[0] // splits), :]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        kl = np.mean(np.sum(kl, 1))
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def frechet_distance(f1, f2):
    mu1, mu2 = np.mean(f1, axis=0), np.mean(f2, axis=0)
    sigma1, sigma2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def main():
    data = json.load(sys.stdin)
    probs = np.asarray(data["probs"], dtype=np.float64)
    out = {
        "inception": [
            dict(zip(("splits", "mean", "std"), (s, *inception_score(probs, s)))) for s in data["splits"]
        ],
        "fid": frechet_distance(np.asarray(data["features1"], dtype=np.float64), np.asarray(data["features2"], dtype=np.float64)),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
