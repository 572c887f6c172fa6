"""The sealed exam: held-out evaluation that resists tuning to the test.

Public API:
- `Thresholdout(threshold, sigma, budget, key).answer(train_values, holdout_values)`:
  the reusable holdout of Dwork et al. 2015, usable on any evaluation; `BudgetExhausted`.
- `status(db_path)`, `query(db_path, agent, seed=0, split=None)`,
  `final(db_path, agent, seed=0, force_reason=None)`, `reseal(db_path, config=None,
  reason=None)`: the sealed exam on the results database (its key in a file outside it,
  `key_path=`); `agent` is a `trainee.agent.Agent`, evaluated inside the exam. Each
  returns a dict. `ExamConfig` holds a seal's constants (validated); `ExamError`,
  `FinalAlreadyTaken`.

See docs/exam.md.
"""

from trainee.exam.errors import ExamError, FinalAlreadyTaken
from trainee.exam.keyfile import KEY_ENV
from trainee.exam.seal import ExamConfig
from trainee.exam.sealed import final, query, reseal, status
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
    "KEY_ENV",
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
