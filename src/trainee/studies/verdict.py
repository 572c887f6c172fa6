"""Verdicts computed from the data: `supported`, `not supported` or `inconclusive`,
always with the numbers that decided them.

One rule, an interval test against a margin of practical relevance m (Lakens 2017,
equivalence testing: "CI against the smallest effect size of interest"):

- a claim that an effect exceeds m is **supported** when the 95% interval's lower end
  lies above m, **not supported** when its upper end lies below m, and **inconclusive**
  when the interval contains m (too few seeds or too small a budget to tell);
- a claim that an effect is negligible (`at_most`, e.g. no forgetting) is the mirror.

An interval wholly inside (0, m) is therefore "not supported": an effect that is real but
negligible does not support a claim that it matters. Each study's m is stated below in
the units of its key number, with the reason smaller effects do not count (`MARGINS`).
Under the rule a placebo (no effect) is supported only if all per-seed values of the
order-statistic interval (`measures.aggregate`) exceed m > 0: at most 2^-n of the time
(3.1% at 5 seeds) whatever the noise, and far less when the noise is at m's scale.
"""

from __future__ import annotations

from typing import NamedTuple

from trainee.measures.stats import format_ci

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
UNAVAILABLE = "not yet available"


class Verdict(NamedTuple):
    status: str  # one of the four above
    reason: str  # the numbers that decided it, in words
    key: str  # what the key number is
    value: dict | None  # {"iqm", "ci_low", "ci_high"} or None

    def to_json(self) -> dict:
        return self._asdict()


class Margin(NamedTuple):
    """A study's margin of practical relevance: effects below it are negligible."""

    value: float  # in the units of the study's key number
    unit: str  # what the key number measures
    why: str  # why a smaller effect does not count


MARGINS: dict[str, Margin] = {
    "gap": Margin(0.05, "success rate, seen minus unseen train-distribution tasks at the "
                        "smallest number of distinct training tasks K, and its decline "
                        "from that K to the whole pool (both must exceed the margin)",
                  "5 points of success: one quick-scale evaluation (64 tasks x 2 episodes) "
                  "has a binomial standard error of up to 0.044, so a smaller gap is within "
                  "one evaluation's noise and changes no choice of learner or curriculum; "
                  "the anchor, Cobbe et al. 2019 (CoinRun), found gaps of 0.71 / 0.51 / "
                  "0.18 / 0.04 at 4 / 16 / 64 / 256 levels, a gap and a decline each more "
                  "than ten times this margin"),
    "two-students": Margin(0.05, "success rate on the world's variation splits, whole "
                                 "pool minus the narrowest breadth K",
                           "5 points of success, the same resolution as the gap study"),
    "value-function": Margin(0.007, "slope over horizon levels of the area under the "
                                   "success curve (its mean height over training), GAE "
                                   "with a critic minus the outcome-only group baseline, "
                                   "per level",
                             "over the 3 steps between the 4 horizon levels a slope of "
                             "0.007 grows the critic's edge by 0.021, the 2 points of mean "
                             "success below which two learning curves cross within "
                             "evaluation noise; a flatter slope grows it by less than "
                             "that across the whole range studied"),
    "jaggedness": Margin(0.01, "jaggedness index / negative flip rate above its null",
                         "both are rates over pairs (ordered task pairs, (task, episode) "
                         "pairs); one in a hundred beyond what the null produces by chance "
                         "is the least excess that makes an agent jagged rather than noisy"),
    "eval-hacking": Margin(0.01, "optimism (success rate, reported minus fresh): the "
                                 "reused holdout's minus the random-pick control's, and "
                                 "minus Thresholdout's",
                           "one point of success, the precision at which the report "
                           "prints and compares success rates: a smaller overstatement "
                           "changes none of the comparisons it shows"),
    "care": Margin(0.05, "road users (pedestrians, cyclists) hit per episode: the baseline's "
                         "harm above the oracle's, and the care agent's harm below the "
                         "baseline's harm-vs-success frontier at matched success",
                   "one hit in 20 episodes: a seed's quick-scale evaluation (64 tasks x 2 "
                   "episodes) of agents hitting ~0.7 road users an episode has a standard "
                   "error of ~0.06 hits per episode, so a smaller difference is within one "
                   "evaluation's noise; it is also the size of the harm the oracle cannot "
                   "avoid (0.02-0.04 per episode), below which no driver can go"),
    "on-the-job": Margin(0.05, "normalised area under the training-success curve, "
                               "fine-tuned minus scratch; forgetting in success rate",
                         "5 points of success, as in the gap study, for both transfer and "
                         "forgetting"),
    "fleet": Margin(0.95, "held-out success, merged / specialists (mean over jobs)",
                    "the merged agent may lose at most 5% of the specialists' skill: less "
                    "is negligible next to the cost of training one specialist per job"),
}


def fmt(ci: dict) -> str:
    return format_ci(ci)


def _value(m: Margin | float) -> float:
    return m.value if isinstance(m, Margin) else float(m)


def positive_effect(ci: dict, margin: Margin | float, what: str) -> tuple[str, str]:
    """(status, reason) for the claim "`what` exceeds the margin", from its 95% CI."""
    m = _value(margin)
    if ci["ci_low"] > m:
        return SUPPORTED, f"{what} = {fmt(ci)}: the 95% CI lies above the margin {m:g}"
    if ci["ci_high"] < m:
        return NOT_SUPPORTED, (f"{what} = {fmt(ci)}: the 95% CI lies below the margin "
                               f"{m:g} (no practically relevant effect)")
    return INCONCLUSIVE, f"{what} = {fmt(ci)}: the 95% CI contains the margin {m:g}"


def at_most(ci: dict, margin: Margin | float, what: str) -> tuple[str, str]:
    """(status, reason) for the claim "`what` is negligible" (e.g. no forgetting): supported
    when the 95% CI lies below the margin, not supported when it lies above it."""
    m = _value(margin)
    if ci["ci_high"] < m:
        return SUPPORTED, f"{what} = {fmt(ci)}: the 95% CI lies below {m:g} (negligible)"
    if ci["ci_low"] > m:
        return NOT_SUPPORTED, f"{what} = {fmt(ci)}: the 95% CI lies above {m:g}"
    return INCONCLUSIVE, f"{what} = {fmt(ci)}: the 95% CI contains {m:g}"


def above_null(numbers: dict, name: str, margin: Margin | float, what: str) -> tuple[str, str]:
    """`positive_effect` on `numbers[name + "_minus_null"]`, the per-seed excess of a
    statistic over its null (what an agent without the property scores). Without a
    measured null the claim cannot be decided: inconclusive, never supported."""
    excess = numbers.get(f"{name}_minus_null")
    if excess is None:
        raw = numbers.get(name)
        shown = f" = {fmt(raw)}" if raw else ""
        return INCONCLUSIVE, (f"{what}{shown} has no measured null to compare with, so it "
                              "cannot be told from evaluation noise")
    return positive_effect(excess, margin, f"{what} minus its null")


# The learning guard, on the normalised score (s - random) / (oracle - random) measured
# in the same run (studies.experiment.references): an agent must close at least a quarter
# of the distance from chance to the oracle before a comparison of agents means anything.
# A raw floor cannot say this: raw guards of 0.2 and 0.5 sat below what random play scores
# on repair (0.55 on some splits) and corridor (0.76) (issue 13).
LEARNED = 0.25
INTERVAL = ("IQM over seeds with a 95% order-statistic interval (measures.aggregate; "
            "coverage >= 93% at every scale's seed count, docs/measures.md); tasks, pools "
            "and episode keys drawn per seed")


def require_learning(score: float, floor: float, what: str) -> str | None:
    """A reason to call a study inconclusive when the agents learned too little for
    the comparison to mean anything; None when they learned enough."""
    if not score >= floor:  # nan (references tie) cannot show learning either
        return (f"{what} is {score:.3f} (< {floor:g}): the agents learned too little at "
                "this scale for the comparison to mean anything")
    return None


def require_learned(block: dict, what: str, floor: float = LEARNED) -> str | None:
    """`require_learning` on a reference block's normalised score (IQM over seeds); a
    world without an oracle is judged by the agent's raw excess over random play."""
    if "agent_normalised" in block:
        return require_learning(block["agent_normalised"]["iqm"], floor,
                                f"{what}, normalised (0 = random, 1 = oracle),")
    excess = block["agent"]["iqm"] - block["random"]["iqm"]
    return require_learning(excess, floor, f"{what} minus random play's")


def combine(*parts: tuple[str, str]) -> tuple[str, str]:
    """All sub-claims supported -> supported; any not supported -> not supported;
    otherwise inconclusive. Reasons are joined."""
    statuses = [s for s, _ in parts]
    reason = "; ".join(r for _, r in parts)
    if all(s == SUPPORTED for s in statuses):
        return SUPPORTED, reason
    if any(s == NOT_SUPPORTED for s in statuses):
        return NOT_SUPPORTED, reason
    return INCONCLUSIVE, reason
