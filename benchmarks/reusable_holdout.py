"""The adaptive-overfitting experiment of Dwork et al. 2015 ("The reusable holdout",
Science 349:636, Fig. 2 and its supplementary simulation), with trainee's Thresholdout.

Data: n points with d standard-normal features and labels uniform in {-1, +1},
independent of the features, so no classifier beats 0.5 on fresh data. The analyst:
1. asks for each feature's correlation with the label on the train set and on the
   holdout (d queries);
2. keeps the features whose train and holdout correlations both exceed 1 / sqrt(n) in
   absolute value with the same sign;
3. for k = 10, 20, ..., 500 takes the k kept features with the largest |train
   correlation|, classifies by the sign of their sign-weighted sum, and asks for the
   classifier's holdout accuracy.
With a plain holdout, step 2 leaks the holdout into the choice of features, and the
reported accuracy climbs towards ~0.63 while fresh data stays at 0.5. Through
Thresholdout (each holdout answer in steps 1 and 3 is a Thresholdout query) the reported
accuracy stays near the truth.

    python benchmarks/reusable_holdout.py --out holdout.png        # n = d = 10,000
    python benchmarks/reusable_holdout.py --n 2000 --d 2000 --reps 1 --out small.png
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from trainee.exam import thresholdout_init, thresholdout_step


@dataclass(frozen=True)
class Args:
    n: int = 10_000  # points per set (train, holdout, fresh), as in the paper
    d: int = 10_000  # features, as in the paper
    k_max: int = 500  # largest number of selected features
    k_step: int = 10
    reps: int = 3  # independent repetitions averaged (the paper shows one draw's curve)
    seed: int = 0
    out: str = "reusable_holdout.png"


class Curves(NamedTuple):
    """Accuracies per k: shape (len(ks),)."""

    train: np.ndarray
    reported: np.ndarray  # what the holdout (plain or Thresholdout) answers
    fresh: np.ndarray  # the truth: accuracy on fresh data


def draw(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.standard_normal((n, d), dtype=np.float32)  # float32: 3 sets of 10^8 fit in RAM
    y = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=n)
    return x, y


def accuracy(x: np.ndarray, y: np.ndarray, features: np.ndarray, signs: np.ndarray) -> float:
    scores = x[:, features] @ signs
    return float(np.mean(np.sign(scores) == y))


class Mechanism:
    """The holdout's answers: plain (`noise` None) or through Thresholdout with the
    given noise ("laplace": the published algorithm; "gaussian": the paper's own
    simulation code)."""

    def __init__(self, noise: str | None, n: int, seed: int):
        # The paper's calibration for n items: T = 4 / sqrt(n), sigma = 1 / sqrt(n).
        self.threshold, self.sigma = 4 / np.sqrt(n), 1 / np.sqrt(n)
        self.noise = noise
        budget = 10**9  # the paper's simulation sets no budget; we report what was spent
        self.state = None if noise is None else thresholdout_init(
            self.threshold, self.sigma, budget, seed, noise)
        self.spent = 0

    def answer(self, train: float, holdout: float) -> float:
        if self.state is None:
            return holdout
        out = thresholdout_step(self.threshold, self.sigma, self.state, train, holdout,
                                self.noise)
        self.state, self.spent = out.state, self.spent + out.over_threshold
        return out.value


def analyst(data: dict, ks: list[int], mechanism: Mechanism) -> Curves:
    (xt, yt), (xh, yh), (xf, yf) = data["train"], data["holdout"], data["fresh"]
    n = len(yt)
    train_corr = xt.T @ yt / n  # (d,)
    holdout_corr = np.array([mechanism.answer(float(a), float(b))
                             for a, b in zip(train_corr, xh.T @ yh / n, strict=True)])
    cut = 1 / np.sqrt(n)
    same_sign = np.sign(train_corr) == np.sign(holdout_corr)
    kept = same_sign & (np.abs(train_corr) > cut) & (np.abs(holdout_corr) > cut)
    order = np.argsort(-np.abs(np.where(kept, train_corr, 0.0)))  # strongest first
    curves = []
    for k in ks:
        top = order[:k]
        signs = np.sign(train_corr[top]).astype(np.float32)
        train_acc = accuracy(xt, yt, top, signs)
        reported = mechanism.answer(train_acc, accuracy(xh, yh, top, signs))
        curves.append((train_acc, reported, accuracy(xf, yf, top, signs)))
    return Curves(*np.array(curves).T)


MECHANISMS = {"plain holdout, reused": None,
              "Thresholdout, paper's simulation noise (Gaussian)": "gaussian",
              "Thresholdout, published algorithm (Laplace)": "laplace"}


def run(args: Args) -> tuple[list[int], dict[str, np.ndarray], dict[str, float]]:
    """Per mechanism: curves of every draw, (reps, 3, len(ks)) as train / reported /
    fresh, and the mean number of over-threshold answers per draw."""
    ks = list(range(args.k_step, args.k_max + 1, args.k_step))
    runs = {name: [] for name in MECHANISMS}
    spent = {name: [] for name in MECHANISMS}
    for rep in range(args.reps):
        rng = np.random.default_rng([args.seed, rep])
        data = {name: draw(rng, args.n, args.d) for name in ("train", "holdout", "fresh")}
        for name, noise in MECHANISMS.items():
            mechanism = Mechanism(noise, args.n, seed=args.seed * 1000 + rep)
            runs[name].append(analyst(data, ks, mechanism))
            spent[name].append(mechanism.spent)
        del data
    draws = {name: np.array(r) for name, r in runs.items()}
    return ks, draws, {name: float(np.mean(v)) for name, v in spent.items()}


def plot(ks: list[int], curves: dict[str, Curves], out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5 * len(curves), 4), sharey=True)
    for ax, (title, c) in zip(axes, curves.items(), strict=True):
        ax.plot(ks, c.train, label="train")
        ax.plot(ks, c.reported, label="holdout (reported)")
        ax.plot(ks, c.fresh, label="fresh data (truth)")
        ax.axhline(0.5, color="gray", lw=0.5)
        ax.set_title(title, fontsize=9)
        ax.set(xlabel="k (features selected)", ylim=(0.45, 0.75))
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def report(args: Args, ks: list[int], draws: dict[str, np.ndarray],
           spent: dict[str, float]) -> None:
    curves = {name: Curves(*d.mean(axis=0)) for name, d in draws.items()}
    print(f"n = {args.n}, d = {args.d}, reps = {args.reps}, seed = {args.seed}; "
          "columns: train / reported / truth (fresh)")
    names = list(curves)
    print(f"{'k':>4}  " + "  ".join(f"{'plain':^17}" if noise is None else f"{noise:^17}"
                                      for noise in MECHANISMS.values()))
    for i, k in enumerate(ks):
        print(f"{k:>4}  " + "  ".join(
            f"{curves[n].train[i]:.3f} {curves[n].reported[i]:.3f} {curves[n].fresh[i]:.3f}"
            for n in names))
    for name, c in curves.items():
        error = np.abs(c.reported - c.fresh)
        print(f"{name}: at k = {ks[-1]} reported {c.reported[-1]:.3f}, truth {c.fresh[-1]:.3f}; "
              f"max |reported - truth| = {error.max():.3f} (k = {ks[int(error.argmax())]}), "
              f"mean {error.mean():.3f}; over-threshold answers {spent[name]:.0f} "
              f"of {args.d + len(ks)} queries")
        each = np.abs(draws[name][:, 1] - draws[name][:, 2])  # (reps, k): single draws
        print(f"    single draws: {np.mean(each <= 0.05):.1%} of answers within 0.05 of the "
              f"truth; largest error {each.max():.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in Args().__dict__.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = Args(**vars(parser.parse_args()))
    start = time.time()
    ks, draws, spent = run(args)
    report(args, ks, draws, spent)
    plot(ks, {name: Curves(*d.mean(axis=0)) for name, d in draws.items()}, args.out)
    print(f"plot: {args.out} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
