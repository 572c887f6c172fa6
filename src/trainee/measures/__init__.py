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
    jaggedness,
    jaggedness_index,
    task_success,
    worst_decile_success,
)
from trainee.measures.regressions import (
    Flips,
    checkpoint_flips,
    flips,
    reintroduced_bugs_per_episode,
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
    "jaggedness",
    "jaggedness_index",
    "max_forgetting",
    "normalised_return",
    "probability_of_improvement",
    "probability_of_improvement_ci",
    "reintroduced_bugs_per_episode",
    "samples_to_competence",
    "success_rate",
    "task_success",
    "worst_decile_success",
    "zero_shot_transfer",
]
