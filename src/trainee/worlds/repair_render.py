"""repair: host-side renderers (numpy), for people, not for speed."""

from __future__ import annotations

import numpy as np

from trainee.worlds.repair_core import MAX_BITS, MAX_TESTS, incidence, true_literals, unpack

CELL = 12  # pixels per cell
ONE, ZERO, OFF = (250, 250, 250), (40, 40, 40), (120, 120, 120)
PASS, FAIL, REFAIL = (60, 170, 80), (210, 50, 50), (240, 150, 30)
TRUE_LIT, FALSE_LIT, EMPTY = (140, 210, 150), (230, 150, 150), (225, 225, 225)


def render_rgb(state, task) -> np.ndarray:
    """Top row: the bits (white 1, black 0). Below, one row per test: a status cell
    (green pass, red fail, orange a fixed test failing again) and one cell per bit in
    the test, green if that literal holds now, pink if not. A (H, W, 3) uint8 array."""
    n, m = int(task.n_bits), int(task.n_tests)
    bits = np.asarray(unpack(state.bits, MAX_BITS))[:n]
    table = np.asarray(incidence(task))[:m, :n]
    words = np.asarray(true_literals(state.bits, task))[:m]
    truth = ((words[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
    passing = np.asarray(unpack(state.passing, MAX_TESTS))[:m]
    fixed = np.asarray(unpack(state.fixed, MAX_TESTS))[:m]
    grid = np.full((m + 2, n + 2, 3), 255, np.uint8)  # one blank row and column as gutter
    grid[0, 2:] = np.where(bits[:, None], ONE, ZERO)
    grid[0, 0] = OFF
    status = np.where(passing[:, None], PASS, np.where(fixed[:, None], REFAIL, FAIL))
    grid[2:, 0] = status
    lit = np.where(truth[..., None], TRUE_LIT, FALSE_LIT)
    grid[2:, 2:] = np.where((table != 0)[..., None], lit, EMPTY)
    return np.kron(grid, np.ones((CELL, CELL, 1), np.uint8))


def render_text(state, task) -> str:
    """The program as 0/1, then each test as PASS/FAIL (REGRESSED for a fixed test that
    fails again) with its clause, e.g. `x1 | !x3` (bits numbered from 0)."""
    n, m = int(task.n_bits), int(task.n_tests)
    bits = "".join(str(int(b)) for b in np.asarray(unpack(state.bits, MAX_BITS))[:n])
    passing = np.asarray(unpack(state.passing, MAX_TESTS))[:m]
    fixed = np.asarray(unpack(state.fixed, MAX_TESTS))[:m]
    lines = [f"t={int(state.t)}  program={bits}  failing={int((~passing).sum())}/{m}"]
    table = np.asarray(incidence(task))
    for j in range(m):
        lits = [("" if table[j, i] > 0 else "!") + f"x{i}" for i in np.flatnonzero(table[j])]
        status = "PASS" if passing[j] else ("REGRESSED" if fixed[j] else "FAIL")
        lines.append(f"  test {j:2d} {status:9s} " + " | ".join(lits))
    return "\n".join(lines)
