#!/usr/bin/python3
"""Summarises kplusone_mnist.py logs (JSON lines) side by side: test error every --every epochs, the best and the last.

    /usr/bin/python3 reference/summarize.py runs/kplusone.jsonl runs/supervised.jsonl --every 10
"""

import argparse
import json


def read_log(path):
    settings, epochs = None, []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            record = json.loads(line)
            if "settings" in record:
                settings = record
            elif "epoch" in record:
                epochs.append(record)
    return settings, epochs


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("logs", nargs="+")
    p.add_argument("--every", type=int, default=10)
    args = p.parse_args()
    runs = [(path, *read_log(path)) for path in args.logs]
    last = max(len(e) for _, _, e in runs)
    marks = sorted({1, last} | set(range(args.every, last + 1, args.every)))
    header = ["epoch"] + [f"{path} test_err (live)" for path, _, _ in runs]
    print(" | ".join(header))
    for m in marks:
        cells = [str(m)]
        for _, _, epochs in runs:
            r = next((e for e in epochs if e["epoch"] == m), None)
            cells.append("" if r is None else f"{100 * r['test_err']:.1f}% ({100 * r['test_err_live']:.1f}%)")
        print(" | ".join(cells))
    for path, settings, epochs in runs:
        if not epochs:
            print(f"{path}: no epochs yet")
            continue
        best = min(epochs, key=lambda e: e["test_err"])
        tail = epochs[-10:]
        mean_tail = sum(e["test_err"] for e in tail) / len(tail)
        secs = sorted(e["train_seconds"] for e in epochs)
        print(f"{path}: {len(epochs)} epochs ({len(epochs) * settings['steps_per_epoch']} steps), "
              f"last {100 * epochs[-1]['test_err']:.1f}%, mean of last {len(tail)} {100 * mean_tail:.2f}%, "
              f"best {100 * best['test_err']:.1f}% at epoch {best['epoch']}, "
              f"median {secs[len(secs) // 2]:.1f} s per epoch of training")


if __name__ == "__main__":
    main()
