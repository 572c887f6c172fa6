"""Coverage of nominal 95% intervals across seeds, by simulation: method x seeds x data.

For each data kind, `--reps` simulated experiments of n per-seed values are drawn; each
method's interval is computed for every experiment at once (numpy, vectorised) and the
fraction of intervals containing the truth is printed. The truth is the population
statistic the method estimates, from 4 million draws: the IQM (25%-trimmed mean) for the
IQM methods, the mean for the mean methods, and for the order-statistic interval (what
`trainee.measures.aggregate` reports beside the IQM) both the IQM and the median.

    python benchmarks/interval_coverage.py                # the table in docs/measures.md
    python benchmarks/interval_coverage.py --reps 1000 --boot 500   # a quick look

Data kinds (per-seed values; what a study's per-seed number can look like):
- normal: N(0, 1);
- skewed: Exponential(1) (skewness 2);
- heavy: LogNormal(0, 1) (skewness 6.2);
- bounded: a success rate, Binomial(128, p) / 128 with p ~ Beta(8, 2) per seed;
- bimodal: 20% of seeds fail (Beta(2, 8)), the rest succeed (Beta(8, 2)).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from trainee.measures import iqm
from trainee.measures.stats import order_statistic_interval

KINDS = ("normal", "skewed", "heavy", "bounded", "bimodal")
SIZE = 0.95


def draw(rng: np.random.Generator, kind: str, shape) -> np.ndarray:
    if kind == "normal":
        return rng.normal(size=shape)
    if kind == "skewed":
        return rng.exponential(size=shape)
    if kind == "heavy":
        return rng.lognormal(0.0, 1.0, size=shape)
    if kind == "bounded":
        return rng.binomial(128, rng.beta(8, 2, size=shape)) / 128
    fail = rng.random(shape) < 0.2
    return np.where(fail, rng.beta(2, 8, shape), rng.beta(8, 2, shape))


def truths(rng: np.random.Generator, kind: str) -> dict[str, float]:
    big = draw(rng, kind, 4_000_000)
    return {"iqm": float(iqm(big)), "mean": float(big.mean()), "median": float(np.median(big))}


def resample(rng: np.random.Generator, x: np.ndarray, boot: int) -> np.ndarray:
    """(R, n) -> (R, boot, n): each experiment's seeds resampled with replacement."""
    reps, n = x.shape
    return x[np.arange(reps)[:, None, None], rng.integers(0, n, (reps, boot, n))]


def percentile_iqm(x, xb):
    return np.percentile(iqm(xb, axis=-1), [100 * (1 - SIZE) / 2, 100 * (1 + SIZE) / 2], axis=1)


def bca_iqm(x, xb):
    """Efron's BCa (Efron & Tibshirani 1993, ch. 14): bias correction z0 from the share
    of replicates below the estimate, acceleration from the jackknife."""
    theta, rep = iqm(x, axis=-1), iqm(xb, axis=-1)  # (R,), (R, B)
    below = np.clip(np.mean(rep < theta[:, None], axis=1), 1e-6, 1 - 1e-6)
    z0 = stats.norm.ppf(below)
    n = x.shape[1]
    jack = np.stack([iqm(np.delete(x, i, axis=1), axis=-1) for i in range(n)], 1)  # (R, n)
    d = jack.mean(1, keepdims=True) - jack
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.nan_to_num((d**3).sum(1) / (6 * ((d**2).sum(1)) ** 1.5))
    out = []
    for z in stats.norm.ppf([(1 - SIZE) / 2, (1 + SIZE) / 2]):
        level = stats.norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z)))
        out.append(np.array([np.quantile(r, q) for r, q in zip(rep, level, strict=True)]))
    return np.stack(out)


def t_mean(x, xb):
    n = x.shape[1]
    m, se = x.mean(1), x.std(1, ddof=1) / np.sqrt(n)
    q = stats.t.ppf((1 + SIZE) / 2, n - 1)
    return np.stack([m - q * se, m + q * se])


def bootstrap_t_mean(x, xb):
    """Studentized bootstrap (Efron & Tibshirani 1993, ch. 12) of the mean; replicates
    with zero spread (every seed drawn the same) are dropped."""
    n = x.shape[1]
    m, se = x.mean(1), x.std(1, ddof=1) / np.sqrt(n)
    mb, seb = xb.mean(-1), xb.std(-1, ddof=1) / np.sqrt(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(seb > 0, (mb - m[:, None]) / seb, np.nan)
    low_q, high_q = np.nanpercentile(t, [100 * (1 - SIZE) / 2, 100 * (1 + SIZE) / 2], axis=1)
    return np.stack([m - high_q * se, m - low_q * se])


def order_statistic(x, xb):
    return np.stack(order_statistic_interval(x, SIZE))


METHODS = {  # name -> (interval function, truth it estimates, needs bootstrap replicates)
    "percentile bootstrap, IQM (rliable)": (percentile_iqm, "iqm", True),
    "BCa bootstrap, IQM": (bca_iqm, "iqm", True),
    "t-interval, mean": (t_mean, "mean", False),
    "studentized bootstrap, mean": (bootstrap_t_mean, "mean", True),
    "order statistic (aggregate), IQM": (order_statistic, "iqm", False),
    "order statistic (aggregate), median": (order_statistic, "median", False),
}


def coverage_table(seeds: list[int], reps: int, boot: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    truth = {kind: truths(rng, kind) for kind in KINDS}
    table = {}
    for n in seeds:
        for kind in KINDS:
            x = draw(rng, kind, (reps, n))
            xb = resample(rng, x, boot)
            for name, (method, target, _) in METHODS.items():
                low, high = method(x, xb)
                t = truth[kind][target]
                table[name, n, kind] = float(np.mean((low <= t) & (t <= high)))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--reps", type=int, default=4_000, help="simulated experiments")
    parser.add_argument("--boot", type=int, default=2_000, help="bootstrap replicates")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    table = coverage_table(args.seeds, args.reps, args.boot, args.seed)
    print(f"coverage of nominal {SIZE:.0%} intervals; {args.reps} experiments per cell, "
          f"{args.boot} bootstrap replicates; {time.perf_counter() - start:.0f} s")
    print("| method | seeds | " + " | ".join(KINDS) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in KINDS) + " |")
    for name in METHODS:
        for n in args.seeds:
            cells = " | ".join(f"{table[name, n, kind]:.3f}" for kind in KINDS)
            print(f"| {name} | {n} | {cells} |")


if __name__ == "__main__":
    main()
