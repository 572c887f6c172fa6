"""The sealed exam: held-out evaluation that resists tuning to the test.

Public API:
- `Thresholdout(threshold, sigma, budget, key).answer(train_values, holdout_values)`:
  the reusable holdout of Dwork et al. 2015, usable on any evaluation; `BudgetExhausted`.
- `status(db_path)`, `query(db_path, world, policy, run_id, agent_hash, split=None)`,
  `reseal(db_path, config=None)`, `final(db_path, world, policy, run_id, agent_hash,
  force=False)`: the sealed exam on the results database; each returns a dict.
  `ExamConfig` holds a seal's constants; `ExamError`, `FinalAlreadyTaken`.

See docs/exam.md.
"""

from trainee.exam.seal import ExamConfig
from trainee.exam.sealed import ExamError, FinalAlreadyTaken, final, query, reseal, status
from trainee.exam.thresholdout import (
    DEFAULT_BUDGET,
    DEFAULT_SIGMA,
    DEFAULT_THRESHOLD,
    BudgetExhausted,
    Thresholdout,
    ThresholdoutAnswer,
    ThresholdoutState,
    thresholdout_init,
    thresholdout_step,
)

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_SIGMA",
    "DEFAULT_THRESHOLD",
    "BudgetExhausted",
    "ExamConfig",
    "ExamError",
    "FinalAlreadyTaken",
    "Thresholdout",
    "ThresholdoutAnswer",
    "ThresholdoutState",
    "final",
    "query",
    "reseal",
    "status",
    "thresholdout_init",
    "thresholdout_step",
]
