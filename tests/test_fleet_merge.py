"""Merge rules on hand-computed cases (numbers worked out by hand in the comments)."""

import jax.numpy as jnp
import numpy as np
import pytest

from trainee.fleet.merge import (
    DilocoState,
    diloco,
    make_rule,
    mean,
    param_count,
    task_arithmetic,
    ties,
)


def stacked(*rows):
    """A params pytree with two leaves, instances stacked on axis 0."""
    rows = np.asarray(rows, np.float32)
    return {"w": jnp.asarray(rows[:, :2]), "b": jnp.asarray(rows[:, 2:])}


def flat(params):
    return np.concatenate([np.asarray(params["b"]).ravel(), np.asarray(params["w"]).ravel()])


def test_mean_is_fedavg_with_equal_weights():
    merged = mean(stacked([1, 2, 3], [3, 6, -3]))
    np.testing.assert_allclose(merged["w"], [2, 4])
    np.testing.assert_allclose(merged["b"], [0])
    assert param_count(merged) == 3


def test_task_arithmetic():
    anchor = {"w": jnp.array([1.0, 1.0]), "b": jnp.array([0.0])}
    # tau_1 = (1, 0, 2), tau_2 = (3, -2, 0); sum = (4, -2, 2); * 0.5 -> (2, -1, 1)
    merged = task_arithmetic(stacked([2, 1, 2], [4, -1, 0]), anchor, 0.5)
    np.testing.assert_allclose(merged["w"], [3, 0])
    np.testing.assert_allclose(merged["b"], [1])


def test_ties_trim_elect_disjoint_mean():
    zero = {"w": jnp.zeros(2), "b": jnp.zeros(2)}
    # Task vectors (leaf w, then b), 4 coordinates each:
    #   tau_1 = ( 4, -1,  2, 0.5)   top 50% by |.|: 4, 2        -> ( 4, 0, 2, 0)
    #   tau_2 = (-1, -3,  5, 0.1)   top 50%: -3, 5              -> ( 0,-3, 5, 0)
    #   tau_3 = (-2,  1, -6, 3.0)   top 50%: -6, 3              -> ( 0, 0,-6, 3)
    # elected sign of the sums (4, -3, 1, 3): (+, -, +, +)
    # disjoint means: 4/1, -3/1, (2+5)/2, 3/1 -> (4, -3, 3.5, 3)
    params = stacked([4, -1, 2, 0.5], [-1, -3, 5, 0.1], [-2, 1, -6, 3.0])
    merged = ties(params, zero, density=0.5, scale=1.0)
    np.testing.assert_allclose(merged["w"], [4, -3])
    np.testing.assert_allclose(merged["b"], [3.5, 3])
    # scale multiplies the merged task vector; the anchor is added back
    one = {"w": jnp.ones(2), "b": jnp.ones(2)}
    shifted = jax_tree_add(params, 1.0)
    merged = ties(shifted, one, density=0.5, scale=0.5)
    np.testing.assert_allclose(merged["w"], [3, -0.5])
    np.testing.assert_allclose(merged["b"], [2.75, 2.5])


def jax_tree_add(tree, c):
    return {k: v + c for k, v in tree.items()}


def test_ties_full_density_equal_signs_is_mean():
    zero = {"w": jnp.zeros(2), "b": jnp.zeros(1)}
    params = stacked([1, 2, 3], [3, 4, 5])
    np.testing.assert_allclose(flat(ties(params, zero, density=1.0)), flat(mean(params)))


def test_diloco_two_outer_steps():
    # One scalar parameter, anchor 1.0, lr 0.7, momentum 0.9.
    # Round 1: workers at 0.0 and 1.0 -> mean 0.5, g = 1 - 0.5 = 0.5; v = 0.5;
    #   step = g + 0.9 v = 0.95; anchor = 1 - 0.7 * 0.95 = 0.335.
    # Round 2: workers at 0.135 and 0.335 -> mean 0.235, g = 0.1; v = 0.45 + 0.1 = 0.55;
    #   step = 0.1 + 0.495 = 0.595; anchor = 0.335 - 0.4165 = -0.0815.
    state = DilocoState({"x": jnp.array(1.0)}, {"x": jnp.array(0.0)})
    merged, state = diloco({"x": jnp.array([0.0, 1.0])}, state)
    assert float(merged["x"]) == pytest.approx(0.335)
    assert float(state.momentum["x"]) == pytest.approx(0.5)
    merged, state = diloco({"x": jnp.array([0.135, 0.335])}, state)
    assert float(merged["x"]) == pytest.approx(-0.0815, abs=1e-6)
    assert float(state.anchor["x"]) == pytest.approx(-0.0815, abs=1e-6)


def test_diloco_without_momentum_and_unit_lr_is_mean():
    params = stacked([1, 2, 3], [3, 6, -3])
    rule = make_rule("diloco", lr=1.0, momentum=0.0)
    merged, _ = rule.merge(params, rule.init(mean(params)))
    np.testing.assert_allclose(flat(merged), flat(mean(params)), atol=1e-6)


def test_rules_carry_the_anchor():
    params = stacked([1, 2, 3], [3, 6, -3])
    for name in ("mean", "ties"):
        rule = make_rule(name)
        merged, state = rule.merge(params, rule.init(mean(params)))
        np.testing.assert_allclose(flat(state), flat(merged))
    with pytest.raises(ValueError, match="unknown merge rule"):
        make_rule("median")


def test_one_merge_program_runs_each_rule_as_its_own():
    # any_rule (what the one compiled fleet runs: the rule and its hyperparameters as
    # data) gives each registered rule's own merge and state, leaves the other rules'
    # states as they were, and one trace serves every rule and hyperparameter.
    import dataclasses

    import jax

    from trainee.fleet import FleetConfig
    from trainee.fleet.merge import RULES, any_rule, rule_choice

    leaves = lambda tree: [np.asarray(x) for x in jax.tree.leaves(tree)]
    params = {"w": jax.random.normal(jax.random.key(0), (3, 40)),
              "b": jnp.arange(6.0).reshape(3, 2)}
    anchor = jax.tree.map(lambda x: x[0] + 0.5, params)
    traces = []

    @jax.jit
    def merge(choice):
        traces.append(choice)
        rule = any_rule(choice)
        return rule.merge(params, rule.init(anchor))

    for fields in ({"merge": "mean"}, {"merge": "ties"}, {"merge": "ties", "ties_density": 0.5},
                   {"merge": "diloco"}, {"merge": "diloco", "outer_momentum": 0.0}):
        config = dataclasses.replace(FleetConfig(), **fields)
        got, states = merge(rule_choice(config))
        for i, name in enumerate(RULES.names()):
            entry = RULES.get(name)
            rule = entry.make(**entry.hyperparameters(config))
            if name == config.merge:
                want, state = rule.merge(params, rule.init(anchor))  # op by op: atol for
                # the float rounding of jit against eager (a fused multiply-add)
                for x, y in zip(leaves((got, states[i])), leaves((want, state)), strict=True):
                    np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-6, err_msg=str(fields))
            else:  # not run: its state is still its initial one
                for x, y in zip(leaves(states[i]), leaves(rule.init(anchor)), strict=True):
                    np.testing.assert_array_equal(x, y)
    assert len(traces) == 1
