"""Studies whose machinery is not built yet: `on-the-job` (careers, issue 6) and
`fleet` (issue 7). They appear in the report as explicit "not yet available" entries
and never produce a number."""

from __future__ import annotations

from types import SimpleNamespace

from trainee.studies.verdict import UNAVAILABLE, Verdict

_PENDING = {
    "on-the-job": (
        "A continual learner learns each new job on the job: fewer samples to competence "
        "on the k-th job than from scratch, without forgetting the earlier ones.",
        "Needs careers (issue 6): sequences of jobs, the R matrix, forgetting and forward "
        "transfer. This section will summarise the careers study at quick scale.",
    ),
    "fleet": (
        "Many deployed copies of a learner can merge what each learned into one agent "
        "that keeps every copy's skill.",
        "Needs the fleet (issue 7): instances on different jobs merged by mean / TIES / "
        "DiLoCo, against specialists and one generalist.",
    ),
}


def pending(name: str) -> SimpleNamespace:
    claim, needs = _PENDING[name]

    def run(ctx) -> dict:
        return {"available": False, "needs": needs}

    def verdict(result: dict) -> Verdict:
        return Verdict(UNAVAILABLE, result["needs"], "none (not run)", None)

    return SimpleNamespace(NAME=name, CLAIM=claim, METHOD=needs, run=run, verdict=verdict,
                           draw=lambda result: [], __name__=f"trainee.studies.pending.{name}")
