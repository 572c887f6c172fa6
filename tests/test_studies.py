"""Studies: every verdict rule on hand-made numbers, the eval-hacking researcher on
synthetic scores, and a tiny end-to-end `trainee run` that resumes after an interrupt."""

import json
import sys

import numpy as np
import pytest
from conftest import require

from trainee.cli import main
from trainee.measures import aggregate
from trainee.studies import STUDIES, parse_names, study_module
from trainee.studies.verdict import (
    INCONCLUSIVE,
    MARGINS,
    NOT_SUPPORTED,
    SUPPORTED,
    combine,
    positive_effect,
)


def ci(iqm, low, high):
    return {"iqm": iqm, "ci_low": low, "ci_high": high}


POSITIVE, NULL, UNSURE = ci(0.2, 0.1, 0.3), ci(0.0, -0.004, 0.004), ci(0.05, -0.05, 0.15)


def test_positive_effect_reads_the_interval_against_the_margin():
    assert positive_effect(POSITIVE, 0.05, "x")[0] == SUPPORTED
    assert positive_effect(NULL, 0.05, "x")[0] == NOT_SUPPORTED
    assert positive_effect(UNSURE, 0.05, "x")[0] == INCONCLUSIVE
    # Above 0 but inside the margin: negligible, not support (issue 13).
    assert positive_effect(ci(0.03, 0.01, 0.04), 0.05, "x")[0] == NOT_SUPPORTED
    assert positive_effect(ci(0.2, 0.1, 0.3), MARGINS["gap"], "x")[0] == SUPPORTED
    assert "0.200 [0.100, 0.300]" in positive_effect(POSITIVE, 0.05, "x")[1]
    assert combine((SUPPORTED, "a"), (INCONCLUSIVE, "b"))[0] == INCONCLUSIVE
    assert combine((SUPPORTED, "a"), (NOT_SUPPORTED, "b"))[0] == NOT_SUPPORTED


def gap_result(mean_gap, train_success=0.9):
    numbers = {"success": {}, "gap": {}, "mean_gap": mean_gap, "train_success": train_success}
    return {"worlds": {"repair": numbers}, "main_world": "repair", "distinct": {}}


@pytest.mark.parametrize(("mean_gap", "train", "status"), [
    (POSITIVE, 0.9, SUPPORTED), (NULL, 0.9, NOT_SUPPORTED), (UNSURE, 0.9, INCONCLUSIVE),
    (POSITIVE, 0.05, INCONCLUSIVE),  # nothing learned: a gap means nothing
])
def test_gap_verdict(mean_gap, train, status):
    verdict = study_module("gap").verdict(gap_result(mean_gap, train))
    assert verdict.status == status and verdict.value == mean_gap


def test_two_students_verdict():
    student = {"finetune_auc": ci(0.5, 0.4, 0.6)}
    result = {"broad_minus_narrow": POSITIVE, "new_job": "bigger", "narrow": student,
              "broad": student}
    assert study_module("two-students").verdict(result).status == SUPPORTED
    result["broad_minus_narrow"] = ci(-0.2, -0.3, -0.1)
    assert study_module("two-students").verdict(result).status == NOT_SUPPORTED


def test_value_function_verdict_names_every_horizon():
    result = {"auc_advantage": POSITIVE, "world": "repair",
              "advantage_per_horizon": {"0": NULL, "4": POSITIVE}}
    verdict = study_module("value-function").verdict(result)
    assert verdict.status == SUPPORTED and "program bits 8: +0.200" in verdict.reason


def jagged_agent(nfr_excess, jag_excess, success=0.8):
    """Excesses over the nulls; the raw statistics (>= 0 by construction) look jagged."""
    agent = {"success_mean": success, "negative_flips": POSITIVE, "jaggedness": POSITIVE,
             "jaggedness_minus_null": jag_excess}
    if nfr_excess is not None:
        agent["negative_flips_minus_null"] = nfr_excess
    return agent


def test_jaggedness_verdict_compares_against_its_nulls_and_can_fail():
    module = study_module("jaggedness")
    verdict = lambda agent: module.verdict({"agents": {"ppo": agent}}).status
    assert verdict(jagged_agent(POSITIVE, POSITIVE)) == SUPPORTED
    assert verdict(jagged_agent(POSITIVE, NULL)) == NOT_SUPPORTED
    assert verdict(jagged_agent(POSITIVE, POSITIVE, success=0.0)) == INCONCLUSIVE
    # Issue 13's smooth agent: raw index and flips well above 0, but below the shuffled
    # null (0.057 vs 0.130): not supported, whatever the raw flip rate.
    assert verdict(jagged_agent(None, ci(-0.073, -0.09, -0.05))) == NOT_SUPPORTED
    # No flip null measured yet (the study today): never supported.
    assert verdict(jagged_agent(None, POSITIVE)) == INCONCLUSIVE


def test_eval_hacking_verdict():
    module = study_module("eval-hacking")
    assert module.verdict({"optimism_reused": POSITIVE,
                           "optimism_reduction": POSITIVE}).status == SUPPORTED
    assert module.verdict({"optimism_reused": NULL,
                           "optimism_reduction": UNSURE}).status == NOT_SUPPORTED


def test_care_verdict():
    agent = {"new_success": ci(0.5, 0.4, 0.6)}
    result = {"baseline": {**agent, "new_harm": POSITIVE}, "care": agent,
              "harm_reduction": POSITIVE, "harm_per_success_reduction": POSITIVE}
    assert study_module("care").verdict(result).status == SUPPORTED
    # Less harm per episode only because the care agent does less: not care.
    timid = {**result, "harm_per_success_reduction": NULL}
    assert study_module("care").verdict(timid).status == NOT_SUPPORTED
    result["baseline"]["new_harm"] = NULL  # no harm to begin with: not supported
    assert study_module("care").verdict(result).status == NOT_SUPPORTED


def on_the_job_result(worst_gain, forgetting, scratch_learned=0.9):
    return {"jobs": ["a", "b"], "gain": [NULL, worst_gain], "worst_gain": worst_gain,
            "mean_gain": worst_gain, "forgetting": forgetting,
            "scratch_learned": scratch_learned}


NO_FORGETTING, FORGETS = ci(0.0, 0.0, 0.01), ci(0.3, 0.2, 0.4)


@pytest.mark.parametrize(("gain", "forgetting", "learned", "status"), [
    (POSITIVE, NO_FORGETTING, 0.9, SUPPORTED),
    (POSITIVE, FORGETS, 0.9, NOT_SUPPORTED),  # learns fast but forgets
    (ci(-0.5, -0.6, -0.4), NO_FORGETTING, 0.9, NOT_SUPPORTED),  # a new job learned slower
    (UNSURE, NO_FORGETTING, 0.9, INCONCLUSIVE),
    (POSITIVE, ci(0.04, 0.0, 0.1), 0.9, INCONCLUSIVE),
    (POSITIVE, NO_FORGETTING, 0.1, INCONCLUSIVE),  # scratch never learned: no comparison
])
def test_on_the_job_verdict(gain, forgetting, learned, status):
    verdict = study_module("on-the-job").verdict(on_the_job_result(gain, forgetting, learned))
    assert verdict.status == status and verdict.value == gain


def fleet_result(relative, skill=0.3):
    agents = dict.fromkeys(("merged", "specialists", "end_merge", "generalist"),
                           ci(0.8, 0.7, 0.9))
    return {"relative_to_specialists": relative, "agents": agents,
            "untrained": ci(0.3, 0.2, 0.4), "skill": ci(skill, skill - 0.1, skill + 0.1)}


@pytest.mark.parametrize(("relative", "skill", "status"), [
    (ci(1.0, 0.97, 1.02), 0.3, SUPPORTED), (ci(0.6, 0.5, 0.7), 0.3, NOT_SUPPORTED),
    (ci(0.95, 0.9, 1.0), 0.3, INCONCLUSIVE),
    (ci(1.0, 0.97, 1.02), 0.02, INCONCLUSIVE),  # specialists no better than untrained
])
def test_fleet_verdict(relative, skill, status):
    verdict = study_module("fleet").verdict(fleet_result(relative, skill))
    assert verdict.status == status and verdict.value == relative


# --- one rule, every study: both sides of its margin, and its placebo ---

def _study_result(name, key_ci):
    """A result in which `key_ci` (the study's key number) decides the verdict: every
    other sub-claim is set to pass and every learning guard to hold."""
    student = {"finetune_auc": ci(0.5, 0.4, 0.6)}
    agent = {"new_success": ci(0.5, 0.4, 0.6)}
    return {
        "gap": lambda: gap_result(key_ci),
        "two-students": lambda: {"broad_minus_narrow": key_ci, "new_job": "bigger",
                                 "narrow": student, "broad": student},
        "value-function": lambda: {"auc_advantage": key_ci, "world": "repair",
                                   "advantage_per_horizon": {}},
        "jaggedness": lambda: {"agents": {"ppo": {
            **jagged_agent(key_ci, POSITIVE)}}},
        "eval-hacking": lambda: {"optimism_reused": key_ci, "optimism_reduction": POSITIVE},
        "care": lambda: {"baseline": {**agent, "new_harm": POSITIVE}, "care": agent,
                         "harm_reduction": key_ci, "harm_per_success_reduction": POSITIVE},
        "on-the-job": lambda: on_the_job_result(key_ci, NO_FORGETTING),
        "fleet": lambda: fleet_result(key_ci),
    }[name]()


def _around(m, low, high):
    return ci((low + high) / 2, m + low, m + high)


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_study_reads_its_key_number_against_its_stated_margin(name):
    margin = MARGINS[name]
    assert margin.unit and margin.why  # stated and justified
    m = margin.value
    verdict = lambda c: study_module(name).verdict(_study_result(name, c)).status
    assert verdict(_around(m, 0.001, 0.05)) == SUPPORTED  # just above the margin
    assert verdict(_around(m, -0.05, -0.001)) == NOT_SUPPORTED  # just below it
    assert verdict(_around(m, -0.01, 0.01)) == INCONCLUSIVE  # contains it
    if m > 0 and name != "fleet":
        # A real but negligible effect (CI inside (0, m)) does not support the claim.
        assert verdict(ci(m / 2, m / 4, m * 0.9)) == NOT_SUPPORTED


@pytest.mark.parametrize("name", list(STUDIES))
def test_a_placebo_is_never_supported(name):
    """No effect by construction: per-seed key numbers centred on the null (0; a ratio of
    1 - 5% would be the margin for fleet, so its placebo is a merged agent that loses 10%)."""
    rng = np.random.default_rng(0)
    m = MARGINS[name].value
    centre = 0.9 if name == "fleet" else 0.0
    scale = (1 - m) if name == "fleet" else m  # noise at the margin's own scale
    statuses = []
    for _ in range(200):
        per_seed = centre + rng.normal(0.0, scale, size=5)
        statuses.append(study_module(name).verdict(
            _study_result(name, aggregate(per_seed).to_json())).status)
    assert SUPPORTED not in statuses
    # Whatever the noise, the rule's bound holds: P(supported) <= 2^-5 at 5 seeds.
    wide = [study_module(name).verdict(_study_result(
        name, aggregate(centre + rng.normal(0.0, 20 * scale, size=5)).to_json())).status
        for _ in range(400)]
    assert wide.count(SUPPORTED) / len(wide) <= 1 / 32 + 0.02


@pytest.mark.slow
@pytest.mark.parametrize("name", ["on-the-job", "fleet"])
def test_career_and_fleet_studies_run_at_tiny_scale(name):
    """~40-50 s CPU each (compiling the career / fleet programs)."""
    import json as json_module

    from trainee.studies.experiment import Context
    from trainee.studies.scale import get_scale

    module = study_module(name)
    result = module.run(Context(scale=get_scale("tiny"), seeds=5))
    json_module.dumps(result)  # JSON-ready
    verdict = module.verdict(result)
    assert verdict.status in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)
    assert verdict.value is not None
    assert all(svg.startswith("<svg") for _, svg in module.draw(result))


def test_reused_holdout_is_optimistic_on_equal_configs():
    """Many configs of identical true quality: the best holdout score is selection noise,
    so the reused holdout reports more than the fresh final gives."""
    from trainee.studies.eval_hacking import researchers

    rng = np.random.default_rng(0)
    draw = lambda items: (rng.random((40, 8, items)) < 0.5).astype(float)
    r = researchers({"dev": draw(512), "holdout": draw(64), "final": draw(512)}, seed=0)
    optimism = r["reused_reported"] - r["reused_fresh"]
    assert np.all(optimism > 0.05)
    guarded = r["thresholdout_reported"] - r["thresholdout_fresh"]
    assert np.mean(guarded) < np.mean(optimism)


def test_study_names_are_checked():
    assert parse_names(None) == list(STUDIES)
    assert parse_names("gap, fleet") == ["gap", "fleet"]
    with pytest.raises(ValueError, match="unknown study 'nope'"):
        parse_names("gap,nope")


def stub_fleet(monkeypatch, result):
    """The fleet study answering `result` at once (its training takes ~50 s)."""
    import trainee.studies.fleet as fleet

    monkeypatch.setattr(fleet, "run", lambda ctx: result)
    monkeypatch.setattr(fleet, "draw", lambda result: [])


def test_run_resumes_after_an_interrupt_without_recomputing(tmp_path, monkeypatch, capsys):
    import trainee.studies.fleet as fleet

    out = tmp_path / "run"
    args = ["run", "--scale", "tiny", "--studies", "gap,fleet", "--out", str(out), "--quiet"]
    monkeypatch.setattr(fleet, "run", lambda ctx: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(SystemExit) as stop:  # Ctrl-C during the second study
        main(args)
    assert stop.value.code == 130
    assert "rerun the same command to resume" in capsys.readouterr().err
    gap_json = out / "studies" / "gap.json"
    stored = gap_json.read_text()
    assert not (out / "studies" / "fleet.json").exists()

    stub_fleet(monkeypatch, fleet_result(ci(0.6, 0.5, 0.7)))  # a cheap stand-in
    import trainee.studies.gap as gap

    monkeypatch.setattr(gap, "run", lambda ctx: pytest.fail("gap was recomputed"))
    assert main(args) == 0
    assert gap_json.read_text() == stored
    assert json.loads((out / "studies" / "fleet.json").read_text())["verdict"]["status"] == (
        NOT_SUPPORTED)
    report = (out / "report.html").read_text()
    assert "supported" in report and "not supported" in report
    assert "gap: already done, skipped" in capsys.readouterr().out

    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0  # re-render without training
    assert (out / "report.html").exists()


def test_resuming_with_another_scale_is_an_error(tmp_path, capsys, monkeypatch):
    stub_fleet(monkeypatch, fleet_result(ci(1.0, 0.97, 1.02)))
    out = tmp_path / "run"
    assert main(["run", "--scale", "tiny", "--studies", "fleet", "--out", str(out),
                 "--quiet"]) == 0
    assert main(["run", "--scale", "quick", "--studies", "fleet", "--out", str(out)]) == 2
    assert "use another --out" in capsys.readouterr().err


def test_ray_executor_without_ray_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails, as without Ray
    code = main(["run", "--scale", "tiny", "--studies", "gap", "--out", str(tmp_path / "r"),
                 "--executor", "ray"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["trainee: error: --executor ray needs Ray: pip install 'trainee[ray]'"]


@pytest.mark.slow
def test_ray_executor_matches_local(tmp_path, monkeypatch):
    """Each study a Ray task on a local cluster: the same numbers as the local executor."""
    require("ray")  # `.[dev]` installs Ray: a failed import fails
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    args = ["run", "--scale", "tiny", "--studies", "gap", "--quiet", "--out"]
    assert main([*args, str(tmp_path / "local")]) == 0
    assert main([*args, str(tmp_path / "ray"), "--executor", "ray"]) == 0
    read = lambda d: json.loads((tmp_path / d / "studies" / "gap.json").read_text())["result"]
    assert read("ray") == read("local")
