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
    above_null,
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


def gap_world(gap_small, decline=POSITIVE, learned=0.5, variation=POSITIVE):
    """One world's gap numbers: `gap_small` the seen-minus-unseen gap at the smallest K,
    `decline` its drop to the whole pool, `learned` the whole-pool agent's normalised
    success on its seen tasks, `variation` its normalised gap on the variation axes
    (None: the world has none)."""
    block = {"agent_normalised": ci(learned, learned - 0.05, learned + 0.05)}
    kinds = {"extrapolation": {"normalised_gap": POSITIVE}}
    if variation is not None:
        kinds["variation"] = {"normalised_gap": variation}
    return {"distinct": [4, 16, 64, 256], "gap": [gap_small, NULL, NULL, NULL],
            "gap_smallest_k": gap_small, "gap_decline": decline,
            "references": {"K=256, seen": block}, "axes": {"by_kind": kinds}}


def gap_result(gap_small, decline=POSITIVE, learned=0.5, second=None):
    """A gap result on repair (the key world), with `second` (driving's numbers) if given."""
    worlds = {"repair": gap_world(gap_small, decline, learned)}
    if second is not None:
        worlds["driving"] = second
    return {"worlds": worlds, "verdict_worlds": list(worlds)}


@pytest.mark.parametrize(("gap_small", "decline", "learned", "status"), [
    (POSITIVE, POSITIVE, 0.5, SUPPORTED),
    (NULL, POSITIVE, 0.5, NOT_SUPPORTED),  # no gap at the smallest K
    (UNSURE, POSITIVE, 0.5, INCONCLUSIVE),
    (POSITIVE, NULL, 0.5, NOT_SUPPORTED),  # a gap that does not shrink with more tasks
    (POSITIVE, UNSURE, 0.5, INCONCLUSIVE),
    (POSITIVE, POSITIVE, 0.05, INCONCLUSIVE),  # nothing learned: a gap means nothing
])
def test_gap_verdict(gap_small, decline, learned, status):
    verdict = study_module("gap").verdict(gap_result(gap_small, decline, learned))
    assert verdict.status == status and verdict.value == gap_small
    if learned > 0.25:  # the extrapolation gaps are shown beside the rule, apart from it
        assert "not in the verdict" in verdict.reason


@pytest.mark.parametrize(("variation", "status"), [
    (ci(0.07, 0.06, 0.08), SUPPORTED),  # the agent fails small variations
    (ci(0.03, 0.02, 0.04), NOT_SUPPORTED),  # a negligible variation gap: claim ruled out
    (UNSURE, INCONCLUSIVE),
    (None, INCONCLUSIVE),  # no variation axis: the "small variations" half cannot be read
])
def test_gap_verdict_reads_the_variation_axes(variation, status):
    """Issue 14: the curve *plus* the normalised gap on variation axes, each world; the
    curve here is clearly there, so the variation gap decides."""
    result = gap_result(POSITIVE)
    result["worlds"]["repair"] = gap_world(POSITIVE, variation=variation)
    verdict = study_module("gap").verdict(result)
    assert verdict.status == status
    assert ("variation" in verdict.reason) and verdict.value == POSITIVE


# Just above and just below the margin 0.05 (CIs of width 0.02).
ABOVE, BELOW = ci(0.07, 0.06, 0.08), ci(0.03, 0.02, 0.04)


@pytest.mark.parametrize(("repair", "driving", "status"), [
    (ABOVE, ABOVE, SUPPORTED),  # the curve on both worlds
    (BELOW, BELOW, NOT_SUPPORTED),  # on neither
    (ABOVE, BELOW, INCONCLUSIVE),  # the worlds disagree
    (BELOW, ABOVE, INCONCLUSIVE),
    (ABOVE, UNSURE, INCONCLUSIVE),  # one world cannot tell
    (BELOW, UNSURE, INCONCLUSIVE),
])
def test_gap_two_world_rule(repair, driving, status):
    """Both worlds rule on the margin: supported only if both support, not supported
    only if both rule the claim out (repair's gap and decline equal here)."""
    result = gap_result(repair, repair, second=gap_world(driving, driving))
    verdict = study_module("gap").verdict(result)
    assert verdict.status == status and verdict.value == repair
    assert "repair:" in verdict.reason and "driving:" in verdict.reason
    if status == INCONCLUSIVE and UNSURE is not driving:
        assert "do not agree" in verdict.reason


def test_gap_two_world_rule_needs_both_worlds_learned():
    """A world whose whole-pool agent learned nothing cannot rule: inconclusive even when
    the other world supports the claim; and its placebo, no gap anywhere, is not
    supported."""
    gap = study_module("gap")
    assert gap.verdict(gap_result(ABOVE, ABOVE, second=gap_world(ABOVE, ABOVE, 0.05))
                       ).status == INCONCLUSIVE
    placebo = gap_result(NULL, NULL, second=gap_world(NULL, NULL, variation=NULL))
    placebo["worlds"]["repair"]["axes"]["by_kind"]["variation"]["normalised_gap"] = NULL
    assert gap.verdict(placebo).status == NOT_SUPPORTED


def two_students_result(broad_minus_narrow, learned=0.5):
    """A two-students result whose key number is `broad_minus_narrow`; `learned`: the
    broad student's normalised in-domain success (0 = random play, 1 = the oracle)."""
    refs = {"in_domain": {"agent": POSITIVE, "random": NULL,
                          "agent_normalised": ci(learned, learned - 0.1, learned + 0.1)}}
    tuned = {"auc": ci(0.5, 0.4, 0.6)}
    return {"broad_minus_narrow": broad_minus_narrow, "breadths": [10, 256],
            "arms": {"10": {"references": refs}, "256": {"references": refs}},
            "in_domain_broad_minus_narrow": ci(-0.3, -0.4, -0.2), "new_job": "bigger",
            "finetune": {w: tuned for w in ("narrow", "broad", "scratch")}}


@pytest.mark.parametrize(("effect", "learned", "status"), [
    (POSITIVE, 0.5, SUPPORTED),
    (ci(-0.2, -0.3, -0.1), 0.5, NOT_SUPPORTED),
    (UNSURE, 0.5, INCONCLUSIVE),
    (POSITIVE, 0.1, INCONCLUSIVE),  # the broad student learned too little in-domain
])
def test_two_students_verdict(effect, learned, status):
    verdict = study_module("two-students").verdict(two_students_result(effect, learned))
    assert verdict.status == status and verdict.value == effect


def value_function_result(slope, learned=(0.5, 0.5)):
    """A result whose key number is `slope`; `learned[i]`: every arm's normalised final
    success at the i-th level (0 = random play, 1 = the oracle)."""
    def arms(normalised):
        refs = {"agent": POSITIVE, "random": NULL, "agent_normalised": ci(normalised, 0, 1)}
        return {"gae": {"references": refs}, "group": {"references": refs}}
    return {"world": "repair", "runs": {"0": arms(learned[0]), "3": arms(learned[1])},
            "versus_group": {"gae": {"slope": slope, "per_level": {"0": NULL, "3": POSITIVE}}}}


def test_value_function_verdict_reads_the_slope_and_names_every_level():
    verdict = study_module("value-function").verdict(value_function_result(POSITIVE))
    assert verdict.status == SUPPORTED and verdict.value == POSITIVE
    assert "program bits 4: +0.000, 7: +0.200" in verdict.reason
    flat = study_module("value-function").verdict(value_function_result(NULL))
    assert flat.status == NOT_SUPPORTED  # no growth with horizon
    # A level that no arm learned: the slope would read the floor, so no decision.
    floor = study_module("value-function").verdict(value_function_result(POSITIVE,
                                                                         (0.5, 0.1)))
    assert floor.status == INCONCLUSIVE and "no arm learned" in floor.reason


def test_value_function_slope_per_seed_hand_computed():
    from trainee.studies.value_function import advantage_numbers, per_seed_slope

    # (levels, seeds): growing by 0.01 a level, flat, shrinking by 0.1 a level
    diffs = np.array([[0.0, 0.1, 0.3], [0.01, 0.1, 0.2], [0.02, 0.1, 0.1], [0.03, 0.1, 0.0]])
    np.testing.assert_allclose(per_seed_slope(diffs), [0.01, 0.0, -0.1], atol=1e-12)
    # AUCs whose gae-minus-group difference is `diffs`
    runs = {str(h): {"gae": {"auc_per_seed": list(0.5 + d)}, "group":
                     {"auc_per_seed": [0.5] * 3}} for h, d in enumerate(diffs)}
    numbers = advantage_numbers(runs, "gae")
    assert numbers["per_level"]["3"]["ci_high"] == pytest.approx(0.1)
    assert numbers["slope"]["ci_low"] == pytest.approx(-0.1)


def test_value_function_vine_at_equal_env_steps_hand_computed():
    """vine's checkpoints spent twice the others' steps (its continuations as many as
    its rollouts): at the others' 10 and 20 steps it is read halfway to its own next
    checkpoints, and its AUC is taken over the others' steps."""
    from trainee.studies.value_function import at_equal_steps

    steps = np.array([0.0, 10.0, 20.0])
    out = at_equal_steps(steps, np.array([[0.0, 10.0, 20.0]] * 5),
                         np.array([[0.0, 0.5, 1.0]] * 5))
    assert [p["iqm"] for p in out["curve"]] == pytest.approx([0.0, 0.25, 0.5])
    assert out["auc_per_seed"] == pytest.approx([0.25] * 5)  # (1.25 + 3.75) / 20
    same = at_equal_steps(steps, np.zeros((5, 3)), np.array([[0.0, 0.5, 1.0]] * 5))
    assert same["auc_per_seed"] == pytest.approx([0.5] * 5)  # no continuations: as is


def test_value_function_vine_stays_out_of_the_verdict():
    """A level only vine learned is still a level no verdict arm learned, and vine's
    numbers do not move the key number."""
    module = study_module("value-function")
    result = value_function_result(POSITIVE, (0.5, 0.1))
    learned = {"agent": POSITIVE, "random": NULL, "agent_normalised": ci(0.9, 0.8, 1.0)}
    for arms in result["runs"].values():
        arms["vine"] = {"references": learned}
    result["versus_group"]["vine"] = {"slope": ci(-1.0, -1.1, -0.9)}
    verdict = module.verdict(result)
    assert verdict.status == INCONCLUSIVE and "no arm learned" in verdict.reason
    assert verdict.value == POSITIVE


def test_value_function_placebo_same_estimator_is_not_supported():
    """Two arms with the same estimator: per-level AUC differences pure noise (no trend).
    At the margin's scale the slope is never supported; at 7x it, at most the rule's
    bound (all 5 seeds' slopes above the margin: 2^-5) of the time."""
    from trainee.studies.value_function import advantage_numbers

    rng = np.random.default_rng(1)
    verdict = study_module("value-function").verdict

    def placebo(noise):
        auc = rng.uniform(0.2, 0.8, size=(4, 5))
        runs = {str(h): {"gae": {"auc_per_seed": list(auc[h] + rng.normal(0, noise, 5))},
                         "group": {"auc_per_seed": list(auc[h])}} for h in range(4)}
        result = value_function_result(None)
        result["versus_group"] = {"gae": advantage_numbers(runs, "gae")}
        return verdict(result).status

    m = MARGINS["value-function"].value
    assert SUPPORTED not in [placebo(m) for _ in range(200)]
    wide = [placebo(7 * m) for _ in range(400)]
    assert wide.count(SUPPORTED) / len(wide) <= 1 / 32 + 0.02


def jagged_agent(nfr_excess, jag_excess, normalised=0.5):
    """Excesses over the nulls; the raw statistics (>= 0 by construction) look jagged;
    `normalised` is the ppo agent's score between random (0) and the oracle (1)."""
    refs = {"agent": POSITIVE, "random": NULL, "agent_normalised": ci(normalised, 0, 1)}
    return {"negative_flips": POSITIVE, "jaggedness": POSITIVE, "references": refs,
            "negative_flips_minus_null": nfr_excess, "jaggedness_minus_null": jag_excess}


def test_jaggedness_verdict_compares_against_its_nulls_and_can_fail():
    module = study_module("jaggedness")
    verdict = lambda agent: module.verdict({"agents": {"ppo": agent}}).status
    assert verdict(jagged_agent(POSITIVE, POSITIVE)) == SUPPORTED
    assert verdict(jagged_agent(POSITIVE, NULL)) == NOT_SUPPORTED
    assert verdict(jagged_agent(NULL, POSITIVE)) == NOT_SUPPORTED
    assert verdict(jagged_agent(UNSURE, POSITIVE)) == INCONCLUSIVE
    # Below a quarter of the way from random play to the oracle: nothing to judge.
    assert verdict(jagged_agent(POSITIVE, POSITIVE, normalised=0.1)) == INCONCLUSIVE
    # Issue 13's smooth agent: raw index and flips well above 0 (POSITIVE), but no more
    # than their nulls: not supported, whatever the raw rates.
    assert verdict(jagged_agent(ci(-0.07, -0.09, -0.06), ci(0.0, -0.005, 0.005))) == (
        NOT_SUPPORTED)
    # A statistic without a measured null can never be supported.
    assert above_null({"jaggedness": POSITIVE}, "jaggedness", 0.01, "x")[0] == INCONCLUSIVE


def eval_hacking_result(against_control, reduction):
    return {"optimism_reused_minus_control": against_control,
            "optimism_reduction": reduction}


def test_eval_hacking_verdict():
    verdict = lambda *c: study_module("eval-hacking").verdict(eval_hacking_result(*c))
    assert verdict(POSITIVE, POSITIVE).status == SUPPORTED
    assert verdict(POSITIVE, POSITIVE).value == POSITIVE  # the reduction is the key
    # No more optimism than picking at random: nothing to guard against.
    assert verdict(NULL, POSITIVE).status == NOT_SUPPORTED
    # Optimistic, but Thresholdout no better.
    assert verdict(POSITIVE, NULL).status == NOT_SUPPORTED
    assert verdict(POSITIVE, UNSURE).status == INCONCLUSIVE


def care_result(key, over_floor=POSITIVE, taught=POSITIVE, learned=0.5):
    """A care result: `key` the care agent's harm below the baseline's frontier on new
    jobs, unwatched; `over_floor` the baseline's harm above the oracle's; `taught` the
    care agent's harm below the frontier where watched; `learned` the baseline's
    normalised success."""
    block = {"agent_normalised": ci(learned, learned - 0.05, learned + 0.05)}
    return {"learned": {"penalty 0": block}, "harm_over_floor": over_floor,
            "care_watched": taught, "care_unwatched": key, "care_new": key, "care_penalty": 2.0}


def test_care_verdict():
    verdict = lambda *a, **k: study_module("care").verdict(care_result(*a, **k))  # noqa: E731
    assert verdict(POSITIVE).status == SUPPORTED
    assert verdict(POSITIVE).value == POSITIVE
    assert verdict(NULL).status == NOT_SUPPORTED  # no less harm than doing less would give
    assert verdict(UNSURE).status == INCONCLUSIVE
    # No harm above the oracle's to begin with: not supported, whatever care does.
    assert verdict(POSITIVE, over_floor=NULL).status == NOT_SUPPORTED
    # The penalty did not even teach care where it was charged: cannot tell carry-over.
    assert verdict(POSITIVE, taught=NULL).status == INCONCLUSIVE
    assert verdict(POSITIVE, learned=0.1).status == INCONCLUSIVE  # the learning guard


def test_care_frontier_reads_harm_at_matched_success():
    care = study_module("care")
    success, harm = np.array([0.0, 0.0, 0.4, 0.8]), np.array([0.0, 0.2, 0.4, 0.8])
    assert care.frontier_harm(success, harm, 0.6) == pytest.approx(0.6)
    assert care.frontier_harm(success, harm, 0.0) == pytest.approx(0.1)  # ties averaged
    assert care.frontier_harm(success, harm, 0.9) == pytest.approx(0.8)  # held at the end
    points = (np.stack([success] * 2), np.stack([harm] * 2))
    # A timid agent (success 0.4, harm 0.4) sits on the frontier: no care; one with the
    # baseline's success and half its harm is 0.4 below it.
    below = care.below_frontier(points, np.array([0.4, 0.4]), np.array([0.4, 0.8]))
    np.testing.assert_allclose(below, [0.0, 0.4])
    # Per success: all hits over all routes finished, over at least one route.
    np.testing.assert_allclose(care.per_success(np.array([0.5, 0.5]), np.array([0.0, 0.25]), 4),
                               [2.0, 2.0])
    layout = care.new_job_layout(64)
    assert layout[0] == ("cyclists", 32) and sum(n for _, n in layout) == 64


@pytest.mark.slow
def test_care_runs_end_to_end_at_tiny_scale():
    """The real design (penalties charged) at tiny scale, ~1-2 min: every arm on every
    set, the baseline's frontier over its checkpoints, references, verdict and figures;
    its placebo runs in tests/test_studies_protocol.py."""
    from trainee.studies.experiment import Context
    from trainee.studies.scale import get_scale

    care = study_module("care")
    result = json.loads(json.dumps(care.run(Context(scale=get_scale("tiny"), seeds=5))))
    assert result["placebo"] is None and list(result["arms"]) == [
        care.arm_name(p) for p in care.PENALTIES]
    assert len(result["frontier"]["new"]["success"]) == get_scale("tiny").chunks + 1
    for where in ("watched", "unwatched", "new", "new, cyclists", "new, physics"):
        assert set(result["by_set"][where]) == {"random", "oracle", "untrained"}
    # The frontier's last point is the baseline's final agent, on the same tasks and keys.
    assert result["frontier"]["new"]["harm"][-1] == result["arms"]["penalty 0"]["new"]["harm"]
    assert care.verdict(result).status in (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)
    assert all(svg.startswith("<svg") for _, svg in care.draw(result))


def on_the_job_arm(gain, forgetting):
    return {"mean_gain": gain, "forgetting": forgetting}


# A learner that fails both sub-claims by far (further than any case below).
FAILS = on_the_job_arm(ci(-0.8, -0.9, -0.7), ci(0.8, 0.7, 0.9))


def on_the_job_result(gain, forgetting, scratch_learned=0.9, others=FAILS):
    """Three learners; `replay` carries the numbers under test."""
    return {"arms": {"finetune": others, "replay": on_the_job_arm(gain, forgetting),
                     "l2_init": others},
            "scratch_learned_normalised": ci(scratch_learned, scratch_learned - 0.05,
                                             scratch_learned + 0.05)}


NO_FORGETTING, FORGETS = ci(0.0, 0.0, 0.01), ci(0.3, 0.2, 0.4)


@pytest.mark.parametrize(("gain", "forgetting", "learned", "status"), [
    (POSITIVE, NO_FORGETTING, 0.9, SUPPORTED),
    (POSITIVE, FORGETS, 0.9, NOT_SUPPORTED),  # learns fast but forgets
    (ci(-0.5, -0.6, -0.4), NO_FORGETTING, 0.9, NOT_SUPPORTED),  # new jobs learned slower
    (ci(0.03, 0.01, 0.04), NO_FORGETTING, 0.9, NOT_SUPPORTED),  # faster, negligibly
    (UNSURE, NO_FORGETTING, 0.9, INCONCLUSIVE),
    (POSITIVE, ci(0.04, 0.0, 0.1), 0.9, INCONCLUSIVE),
    (POSITIVE, NO_FORGETTING, 0.1, INCONCLUSIVE),  # scratch never learned: no comparison
])
def test_on_the_job_verdict(gain, forgetting, learned, status):
    verdict = study_module("on-the-job").verdict(on_the_job_result(gain, forgetting, learned))
    assert verdict.status == status and verdict.value == gain
    assert "best learner replay" in verdict.reason


def test_on_the_job_reads_the_best_learner():
    """One learner passing both sub-claims supports the claim whatever the others do; a
    learner inconclusive on one keeps the verdict open; all failing is not supported."""
    verdict = study_module("on-the-job").verdict
    good, open_ = on_the_job_arm(POSITIVE, NO_FORGETTING), on_the_job_arm(UNSURE, NO_FORGETTING)
    assert verdict({**on_the_job_result(POSITIVE, NO_FORGETTING, others=open_)}).status == (
        SUPPORTED)
    result = on_the_job_result(ci(0.3, 0.2, 0.4), FORGETS, others=good)
    assert verdict(result).status == SUPPORTED and verdict(result).value == POSITIVE
    assert verdict(on_the_job_result(NULL, FORGETS, others=open_)).status == INCONCLUSIVE
    assert verdict(on_the_job_result(NULL, FORGETS)).status == NOT_SUPPORTED


def fleet_result(retained, skill=0.3, normalised=0.8):
    """Rules at the verdict's K = 4: `ties` carries the numbers under test, the others
    lose most of the skill; `mean@2` (another interval, outside the verdict) keeps all."""
    rule = lambda name, k, r: {"rule": name, "merge_every": k, "retained": r}
    lost = ci(0.3, 0.2, 0.4)
    rules = {"mean@4": rule("mean", 4, lost), "ties@4": rule("ties", 4, retained),
             "diloco@4": rule("diloco", 4, lost), "mean@2": rule("mean", 2, ci(2, 1.9, 2.1))}
    agents = (*rules, "specialists", "best_specialist", "end_merge", "generalist", "untrained")
    block = {"agent": ci(0.8, 0.7, 0.9), "random": ci(0, 0, 0), "oracle": ci(1, 1, 1),
             "agent_normalised": ci(normalised, normalised - 0.1, normalised + 0.1)}
    return {"rules": rules, "across_jobs": dict.fromkeys(agents, ci(0.8, 0.7, 0.9)),
            "references": {"best specialist, held out": block},
            "skill": ci(skill, skill - 0.1, skill + 0.1)}


@pytest.mark.parametrize(("retained", "skill", "normalised", "status"), [
    (ci(1.0, 0.97, 1.02), 0.3, 0.8, SUPPORTED), (ci(0.6, 0.5, 0.7), 0.3, 0.8, NOT_SUPPORTED),
    (ci(0.95, 0.9, 1.0), 0.3, 0.8, INCONCLUSIVE),
    (ci(1.0, 0.97, 1.02), 0.02, 0.8, INCONCLUSIVE),  # specialists no better than untrained
    (ci(1.0, 0.97, 1.02), 0.3, 0.1, INCONCLUSIVE),  # specialists near random play
])
def test_fleet_verdict(retained, skill, normalised, status):
    verdict = study_module("fleet").verdict(fleet_result(retained, skill, normalised))
    assert verdict.status == status and verdict.value == retained
    assert "best rule ties@4" in verdict.reason and "mean@2" not in verdict.reason


def test_quick_and_full_designs_of_on_the_job_and_fleet():
    """The designs `trainee run` uses above tiny scale (no training): career-conflict's
    jobs (10 at quick, all 12 at full) and the conflict fleet, every merge interval of the
    full-scale curve dividing the preset's updates (no update dropped)."""
    from trainee.studies.scale import get_scale

    otj, fleet = study_module("on-the-job"), study_module("fleet")
    full = otj.make_career(get_scale("full"))
    assert len(full.jobs) == 12 and {job.world for job in full.jobs} == {"driving"}
    quick = otj.make_career(get_scale("quick"))
    assert [job.name for job in quick.jobs] == [job.name for job in full.jobs[:10]]
    assert len(set(otj.arms())) == 6 and otj.arms()["finetune"] == ()
    assert otj.arms()["apprentice"] == () and otj.LEARNER_OF == {"apprentice": "apprentice"}
    config = fleet.fleet_config(get_scale("full"), 10, 400)
    assert config.world == "driving" and config.jobs == (0, 1, 2, 3)
    updates = config.hp.total_steps // (config.hp.num_envs * config.hp.num_steps)
    grid = [(rule, fleet.K) for rule in fleet.RULES] + list(fleet.CURVE["full"])
    assert len(grid) == 10 and all(updates % k == 0 for _, k in grid)
    assert fleet.fleet_config(get_scale("quick"), 5, 400).world == "driving"


def test_fleet_draws_the_merge_interval_curve():
    """Full scale's curve (rules at several K) drawn from hand-made numbers; the verdict
    reads only K = 4."""
    module = study_module("fleet")
    rules = {f"{r}@{k}": {"rule": r, "merge_every": k, "retained": ci(0.5, 0.4, 0.6)}
             for r in ("mean", "diloco") for k in (2, 4, 8)}
    shown = [*(n for n in rules if n.endswith("@4")), *module.REFERENCES, "untrained"]
    result = {"world": "driving", "jobs": [0, 1], "rules": rules,
              "per_job": {a: [ci(0.5, 0.4, 0.6)] * 2 for a in shown}}
    titles = [title for title, svg in module.draw(result) if svg.startswith("<svg")]
    assert titles[-1] == "skill retained vs merge interval" and len(titles) == 3


# --- one rule, every study: both sides of its margin, and its placebo ---

def _study_result(name, key_ci):
    """A result in which `key_ci` (the study's key number) decides the verdict: every
    other sub-claim is set to pass and every learning guard to hold."""
    return {
        "gap": lambda: gap_result(key_ci),
        "two-students": lambda: two_students_result(key_ci),
        "value-function": lambda: value_function_result(key_ci),
        "jaggedness": lambda: {"agents": {"ppo": jagged_agent(key_ci, POSITIVE)}},
        "eval-hacking": lambda: eval_hacking_result(POSITIVE, key_ci),
        "care": lambda: care_result(key_ci),
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


@pytest.mark.slow
@pytest.mark.parametrize("placebo", [False, True])
def test_value_function_runs_at_tiny_scale(placebo):
    """The study end to end (~30-60 s, four programs compiled): every arm at every
    level, the same rollout budget and updates in every arm, vine's continuations
    counted on top (its equal-env-steps row), and a placebo never supported."""
    from trainee.studies.experiment import Context
    from trainee.studies.scale import get_scale
    from trainee.studies.value_function import ARMS, EQUAL_STEPS, LEVELS

    module = study_module("value-function")
    result = module.run(Context(scale=get_scale("tiny"), seeds=5, placebo=placebo))
    json.dumps(result)
    assert list(result["runs"]) == [str(h) for h in LEVELS[result["world"]]]
    for arms in result["runs"].values():
        assert set(arms) == ({"gae", "group"} if placebo else set(ARMS))
        assert len({tuple(r["steps"]) for r in arms.values()}) == 1  # same budget
        if not placebo:  # vine spent more than its rollouts, so it is read earlier
            assert arms["vine"]["continuations_per_rollout_step"]["iqm"] > 0
            assert len(arms["vine"]["equal_steps"]["curve"]) == len(arms["vine"]["steps"])
    assert (EQUAL_STEPS in result["versus_group"]) != placebo
    verdict = module.verdict(result)
    assert verdict.value == result["versus_group"]["gae"]["slope"]
    assert verdict.status != SUPPORTED if placebo else verdict.status in (
        SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)
    assert all(svg.startswith("<svg") for _, svg in module.draw(result))


@pytest.mark.slow
@pytest.mark.parametrize("placebo", [False, True])
def test_gap_runs_at_tiny_scale(placebo):
    """gap end to end (~25 s, compiles included): every arm of the distinct-tasks curve at
    equal experience, axis gaps grouped by the world's labels, and a placebo that is
    never supported and shows no gap at the smallest K."""
    from trainee.program import get_world
    from trainee.studies.experiment import Context
    from trainee.studies.scale import get_scale

    module = study_module("gap")
    result = module.run(Context(scale=get_scale("tiny"), seeds=5, placebo=placebo))
    json.dumps(result)
    first = result["verdict_worlds"][0]  # tiny scale: corridor alone
    numbers = result["worlds"][first]
    assert numbers["distinct"] == [4, 16, 32]  # tiny's pool is 32
    world = get_world(first)
    axes = numbers["axes"]["axes"]
    assert {a: axes[a]["kind"] for a in axes} == dict(world.axes)
    for axis, kind in world.axes.items():
        assert ("own_trained_success" in axes[axis]) == (kind == "variation")
    verdict = module.verdict(result)
    assert verdict.value == numbers["gap_smallest_k"]
    if placebo:
        assert verdict.status != SUPPORTED and numbers["gap_smallest_k"]["ci_low"] < 0.05
    assert all(svg.startswith("<svg") for _, svg in module.draw(result))


@pytest.mark.slow
@pytest.mark.parametrize("placebo", [False, True])
def test_jaggedness_and_eval_hacking_run_at_tiny_scale(placebo):
    """Both studies end to end (~15-30 s each, compiles included): every null and arm is
    measured, the verdict reads them, and a placebo is never supported."""
    from trainee.studies.experiment import Context
    from trainee.studies.scale import get_scale

    ctx = Context(scale=get_scale("tiny"), seeds=5, placebo=placebo)
    jag = study_module("jaggedness").run(ctx)
    for agent in jag["agents"].values():
        assert {"negative_flips_null", "negative_flips_minus_null", "jaggedness_null",
                "jaggedness_minus_null", "references"} <= set(agent)
    hacking = study_module("eval-hacking").run(ctx)
    assert hacking["candidates"] == 3 * 2 and hacking["threshold"] == pytest.approx(
        4 / np.sqrt(hacking["holdout_items"]))
    for name, result in (("jaggedness", jag), ("eval-hacking", hacking)):
        json.dumps(result)
        verdict = study_module(name).verdict(result)
        assert verdict.value is not None
        assert verdict.status != SUPPORTED if placebo else verdict.status in (
            SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)
        assert all(svg.startswith("<svg") for _, svg in study_module(name).draw(result))


def equal_candidates(rng, candidates=40, seeds=8, items=128, final=512):
    """Candidates of identical true quality (every item a fair coin), 4 difficulty
    levels: whatever the researcher selects is selection noise."""
    draw = lambda n: (rng.random((candidates, seeds, n)) < 0.5).astype(float)
    level = lambda n: np.tile(np.repeat(np.arange(4.0), n // 4), (seeds, 1))
    items = {"trainside": draw(items), "holdout": draw(items), "final": draw(final)}
    return items, {part: level(v.shape[2]) for part, v in items.items()}


def test_adaptive_researcher_overfits_the_reused_holdout_not_the_control():
    from trainee.studies.eval_hacking import researchers

    items, difficulty = equal_candidates(np.random.default_rng(0))
    r = researchers(items, difficulty, seed=0)
    optimism = {arm: r[f"{arm}_reported"] - r[f"{arm}_fresh"]
                for arm in ("reused", "thresholdout", "control")}
    assert r["groups"] == 8 and r["threshold"] == pytest.approx(4 / np.sqrt(128))
    # Best quarter of 40, then the best per group of 16 items: far above the truth 0.5.
    assert np.all(optimism["reused"] > 0.1)
    assert abs(np.mean(optimism["control"])) < 0.05  # random picks: no selection
    # Thresholdout answers with the train side unless the holdout disagrees by more than
    # its noisy threshold; the researcher then overfits the train side, less the holdout.
    assert np.mean(optimism["thresholdout"]) < np.mean(optimism["reused"])
    assert np.all(r["over_threshold"] > 0)
    placebo = researchers(items, difficulty, seed=0, placebo=True)
    assert abs(np.mean(placebo["reused_reported"] - placebo["reused_fresh"])) < 0.05


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
