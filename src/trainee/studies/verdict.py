"""Verdicts computed from the data: `supported`, `not supported` or `inconclusive`,
always with the numbers that decided them.

The rule is an interval test against a margin of practical relevance: a claim that an
effect is positive is supported when the 95% CI of the effect lies above 0, not
supported when it lies below `margin` (the effect is at most negligible), and
inconclusive when the interval straddles both (too few seeds or too small a budget to
tell). This is the usual "CI against a smallest effect of interest" reading (e.g.
Lakens 2017, equivalence testing), with IQM CIs as Agarwal et al. 2021 recommend.
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


def fmt(ci: dict) -> str:
    return format_ci(ci)


def positive_effect(ci: dict, margin: float, what: str) -> tuple[str, str]:
    """(status, reason) for the claim "`what` is positive", from its CI."""
    if ci["ci_low"] > 0:
        return SUPPORTED, f"{what} = {fmt(ci)}: the 95% CI lies above 0"
    if ci["ci_high"] < margin:
        return NOT_SUPPORTED, (f"{what} = {fmt(ci)}: the 95% CI lies below the margin "
                               f"{margin:g} (no practically relevant effect)")
    return INCONCLUSIVE, f"{what} = {fmt(ci)}: the 95% CI includes 0 and reaches {margin:g}"


def at_most(ci: dict, margin: float, what: str) -> tuple[str, str]:
    """(status, reason) for the claim "`what` is negligible" (e.g. no forgetting): supported
    when the 95% CI lies below `margin`, not supported when it lies above it."""
    if ci["ci_high"] < margin:
        return SUPPORTED, f"{what} = {fmt(ci)}: the 95% CI lies below {margin:g} (negligible)"
    if ci["ci_low"] > margin:
        return NOT_SUPPORTED, f"{what} = {fmt(ci)}: the 95% CI lies above {margin:g}"
    return INCONCLUSIVE, f"{what} = {fmt(ci)}: the 95% CI includes {margin:g}"


def require_learning(score: float, floor: float, what: str) -> str | None:
    """A reason to call a study inconclusive when the agents learned too little for
    the comparison to mean anything; None when they learned enough."""
    if score < floor:
        return (f"{what} is {score:.3f} (< {floor:g}): the agents learned too little at "
                "this scale for the comparison to mean anything")
    return None


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
