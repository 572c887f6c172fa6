"""Measures: pure numpy functions from evaluation records (or plain arrays) to numbers.

Each function's docstring gives its exact definition and source; docs/measures.md
collects them. Functions accept an optional leading seed axis and return one value per
seed; `aggregate` / `iqm_ci` summarise per-seed values as a `ValueCI`, which serialises
as `{"iqm": x, "ci_low": x, "ci_high": x}`.
"""

from trainee.measures.competence import Competence, area_under_curve, samples_to_competence
from trainee.measures.continual import (
    ContinualMetrics,
    average_performance,
    backward_transfer,
    continual_metrics,
    forgetting,
    forward_transfer,
    max_forgetting,
    zero_shot_transfer,
)
from trainee.measures.generalisation import (
    Gap,
    Reference,
    generalisation_gap,
    normalised_return,
    success_rate,
)
from trainee.measures.harm import HarmRate, harm_rate
from trainee.measures.jaggedness import (
    Jaggedness,
    isotonic_decreasing,
    jaggedness,
    jaggedness_index,
    monotone_fit,
    monotone_null,
    task_success,
    worst_decile_success,
)
from trainee.measures.regressions import (
    Flips,
    checkpoint_flips,
    flips,
    reintroduced_bugs_per_episode,
    retest_flips,
)
from trainee.measures.stats import (
    ValueCI,
    aggregate,
    format_ci,
    iqm,
    iqm_ci,
    probability_of_improvement,
    probability_of_improvement_ci,
)

__all__ = [
    "Competence",
    "ContinualMetrics",
    "Flips",
    "Gap",
    "HarmRate",
    "Jaggedness",
    "Reference",
    "ValueCI",
    "aggregate",
    "area_under_curve",
    "average_performance",
    "backward_transfer",
    "checkpoint_flips",
    "continual_metrics",
    "flips",
    "forgetting",
    "forward_transfer",
    "generalisation_gap",
    "harm_rate",
    "iqm",
    "format_ci",
    "iqm_ci",
    "isotonic_decreasing",
    "jaggedness",
    "jaggedness_index",
    "max_forgetting",
    "monotone_fit",
    "monotone_null",
    "normalised_return",
    "probability_of_improvement",
    "probability_of_improvement_ci",
    "reintroduced_bugs_per_episode",
    "retest_flips",
    "samples_to_competence",
    "success_rate",
    "task_success",
    "worst_decile_success",
    "zero_shot_transfer",
]
