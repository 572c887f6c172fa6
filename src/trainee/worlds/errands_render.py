"""errands, part 3: host-side renderers (numpy and text; for people, not for speed)."""

from __future__ import annotations

import numpy as np

from trainee.worlds.errands_tasks import COLOURS, KINDS, SIZE, VERBS, ErrandsTask

PIXELS = 8  # per cell
PALETTE = {
    "floor": (24, 24, 28), "wall": (120, 120, 128), "agent": (250, 250, 250),
    "creature": (255, 140, 200), "done": (90, 200, 90), "now": (250, 210, 60),
    "todo": (90, 90, 96),
}
COLOUR_RGB = np.array([(230, 50, 50), (60, 200, 80), (70, 110, 250), (240, 220, 40)], np.uint8)


def _host(state, task):
    to_np = lambda tree: {k: np.asarray(v) for k, v in vars(tree).items()}
    return to_np(state), to_np(task)


def _cell_box(image, cell, colour, inset=0):
    row, col = divmod(int(cell), SIZE)
    top, left = (row + 1) * PIXELS + inset, (col + 1) * PIXELS + inset
    image[top:top + PIXELS - 2 * inset, left:left + PIXELS - 2 * inset] = colour


def _draw_object(image, cell, kind, colour):
    """key: a bar; ball: a plus-shaped blob; box: a hollow square."""
    row, col = divmod(int(cell), SIZE)
    top, left, p = (row + 1) * PIXELS, (col + 1) * PIXELS, PIXELS
    if kind == 0:
        image[top + 1:top + p - 1, left + 3:left + 5] = colour
        image[top + 1:top + 3, left + 2:left + 6] = colour
    elif kind == 1:
        image[top + 2:top + p - 2, left + 1:left + p - 1] = colour
        image[top + 1:top + p - 1, left + 2:left + p - 2] = colour
    else:
        image[top + 1:top + p - 1, left + 1:left + p - 1] = colour
        image[top + 3:top + p - 3, left + 3:left + p - 3] = PALETTE["floor"]


def rgb(state, task: ErrandsTask) -> np.ndarray:
    """(11 * 8 + 8, 11 * 8, 3) uint8: the grid with its outer wall, and a strip below
    showing the errand's progress (green done, yellow current, grey to do)."""
    s, t = _host(state, task)
    side = (SIZE + 2) * PIXELS
    image = np.empty((side + PIXELS, side, 3), np.uint8)
    image[:] = PALETTE["wall"]
    image[PIXELS:side - PIXELS, PIXELS:side - PIXELS] = PALETTE["floor"]
    for cell in range(SIZE * SIZE):
        line = cell % SIZE if t["orient"] == 0 else cell // SIZE
        if line == t["wall"] and cell != t["door"]:
            _cell_box(image, cell, PALETTE["wall"])
    for goal, colour in zip(t["goal_cell"][t["goal_present"]], t["goal_colour"][t["goal_present"]],
                            strict=True):
        _cell_box(image, goal, COLOUR_RGB[colour] // 3)
    door_rgb = COLOUR_RGB[t["door_colour"]]
    if not s["door_open"]:
        _cell_box(image, t["door"], door_rgb // 2 if t["locked"] else door_rgb)
        _cell_box(image, t["door"], PALETTE["floor"], inset=3)
    for slot in np.flatnonzero(s["object_status"] == 0):
        _draw_object(image, s["object_cell"][slot], t["object_kind"][slot],
                     COLOUR_RGB[t["object_colour"][slot]])
    for cell in s["creature_cell"][t["creature_present"]]:
        _cell_box(image, cell, PALETTE["creature"], inset=1)
    _cell_box(image, s["agent"], PALETTE["agent"], inset=1)
    if s["carried"] >= 0:
        _cell_box(image, s["agent"], COLOUR_RGB[t["object_colour"][s["carried"]]], inset=3)
    for i in range(int(t["chain_len"])):
        state_name = "done" if i < s["progress"] else "now" if i == s["progress"] else "todo"
        image[side + 1:side + PIXELS - 1, i * PIXELS + 1:(i + 1) * PIXELS - 1] = PALETTE[state_name]
    return image


def describe(task: ErrandsTask, i: int) -> str:
    """Sub-goal `i` of a host-side task (numpy leaves) in words."""
    verb, obj = int(task["chain_verb"][i]), int(task["chain_object"][i])
    thing = f"the {COLOURS[task['object_colour'][obj]]} {KINDS[task['object_kind'][obj]]}"
    if VERBS[verb] == "open":
        return f"open the {COLOURS[task['door_colour']]} door"
    if VERBS[verb] == "fetch":
        return f"fetch {thing}"
    goal = COLOURS[task["goal_colour"][task["chain_goal"][i]]]
    return f"deliver {thing} to the {goal} tile"


def text(state, task: ErrandsTask) -> str:
    """Two characters a cell: `##` wall, `D`/`L` + colour a closed / locked door, `k`
    key, `o` ball, `x` box + colour letter, `G` + colour a goal tile, `@@` agent, `cc`
    creature, `. ` floor; then the errand (`*` marks the current sub-goal)."""
    s, t = _host(state, task)
    grid = [[". " for _ in range(SIZE)] for _ in range(SIZE)]
    put = lambda cell, mark: grid[int(cell) // SIZE].__setitem__(int(cell) % SIZE, mark)
    for cell in range(SIZE * SIZE):
        line = cell % SIZE if t["orient"] == 0 else cell // SIZE
        if line == t["wall"] and cell != t["door"]:
            put(cell, "##")
    for goal, colour in zip(t["goal_cell"][t["goal_present"]], t["goal_colour"][t["goal_present"]],
                            strict=True):
        put(goal, "G" + COLOURS[colour][0])
    if not s["door_open"]:
        put(t["door"], ("L" if t["locked"] else "D") + COLOURS[t["door_colour"]][0])
    for slot in np.flatnonzero(s["object_status"] == 0):
        mark = "kox"[t["object_kind"][slot]] + COLOURS[t["object_colour"][slot]][0]
        put(s["object_cell"][slot], mark)
    for cell in s["creature_cell"][t["creature_present"]]:
        put(cell, "cc")
    put(s["agent"], "@@")
    border = "##" * (SIZE + 2)
    lines = [border, *("##" + "".join(row) + "##" for row in grid), border]
    carried = "nothing"
    if s["carried"] >= 0:
        slot = s["carried"]
        carried = f"{COLOURS[t['object_colour'][slot]]} {KINDS[t['object_kind'][slot]]}"
    steps = [("*" if i == s["progress"] else " ") + describe(t, i) for i in range(t["chain_len"])]
    lines += [f"t={int(s['t'])} carrying {carried}; errand:", *steps]
    return "\n".join(lines)
