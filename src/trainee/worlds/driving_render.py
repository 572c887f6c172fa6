"""driving: host-side renderers (numpy + Pillow), for people, not for speed."""

from __future__ import annotations

import numpy as np

from trainee.worlds.driving_core import (
    CAR_LENGTH,
    CAR_WIDTH,
    HALF_WIDTH,
    NUM_KNOTS,
    PED_START,
    road_user_s,
)

SIZE = 192  # picture side in pixels
VIEW = 52.0  # metres across the picture
ROAD, GRASS, LINE = (90, 90, 96), (70, 130, 60), (235, 235, 235)
EGO, TRAFFIC, FINISH = (40, 110, 230), (230, 170, 40), (0, 0, 0)
PED, HIT = (250, 90, 160), (200, 0, 0)


def _centreline(task, step: float = 0.5):
    """Road centre (x, y) and heading at s = 0, step, ..., length + 10, by integrating the
    curvature (theta' = kappa, x' = cos theta, y' = sin theta)."""
    length = float(task.length)
    s = np.arange(0.0, length + 10.0, step)
    knots = np.linspace(0.0, length, NUM_KNOTS)
    kappa = np.interp(s, knots, np.asarray(task.curvature))
    theta = np.concatenate([[0.0], np.cumsum(kappa[:-1] * step)]) + np.pi / 2  # drive upwards
    x = np.concatenate([[0.0], np.cumsum(np.cos(theta[:-1]) * step)])
    y = np.concatenate([[0.0], np.cumsum(np.sin(theta[:-1]) * step)])
    return s, x, y, theta


def _frenet_to_xy(road, s, d):
    s_grid, x, y, theta = road
    i = np.clip(np.searchsorted(s_grid, s), 0, len(s_grid) - 1)
    return x[i] - d * np.sin(theta[i]), y[i] + d * np.cos(theta[i]), theta[i]


def render_rgb(state, task) -> np.ndarray:
    """The road around the car seen from above, the car in blue, traffic in amber, pedestrians in
    pink (dark red once hit), the finish line in black: a (192, 192, 3) uint8 array."""
    from PIL import Image, ImageDraw

    road = _centreline(task)
    s_grid, x, y, theta = road
    # A 52 m window that follows the car, looking 12 m ahead of it.
    cx, cy, _ = _frenet_to_xy(road, float(state.s) + 12.0, 0.0)
    lo = np.array([cx, cy]) - VIEW / 2
    scale = (SIZE - 1) / VIEW

    def px(px_x, px_y):  # world metres to picture pixels (y up)
        return (px_x - lo[0]) * scale, SIZE - 1 - (px_y - lo[1]) * scale

    image = Image.new("RGB", (SIZE, SIZE), GRASS)
    draw = ImageDraw.Draw(image)
    points = [px(x[i], y[i]) for i in range(len(s_grid))]
    draw.line(points, fill=ROAD, width=max(1, int(2 * HALF_WIDTH * scale)))
    draw.line(points[::4], fill=LINE, width=1)
    end_l, end_r = _frenet_to_xy(road, float(task.length), HALF_WIDTH), _frenet_to_xy(
        road, float(task.length), -HALF_WIDTH
    )
    draw.line([px(*end_l[:2]), px(*end_r[:2])], fill=FINISH, width=2)
    for i in np.flatnonzero(np.asarray(task.car_mask)):
        _box(draw, px, road, float(state.car_s[i]), float(task.car_d[i]), TRAFFIC)
    for i in np.flatnonzero(np.asarray(task.ped_mask)):
        where = float(road_user_s(task, state.t)[i])
        cx, cy = px(*_frenet_to_xy(road, where, float(state.ped_y[i]))[:2])
        r = max(1.5, 0.6 * scale)
        colour = HIT if bool(state.ped_hit[i]) else PED
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    _box(draw, px, road, float(state.s), float(state.d), EGO, float(state.psi))
    return np.asarray(image, np.uint8)


def _box(draw, px, road, s, d, colour, psi: float = 0.0):
    """A car as an oriented rectangle at Frenet position (s, d)."""
    cx, cy, theta = _frenet_to_xy(road, s, d)
    heading = theta + psi
    fwd = np.array([np.cos(heading), np.sin(heading)]) * CAR_LENGTH / 2
    side = np.array([-np.sin(heading), np.cos(heading)]) * CAR_WIDTH / 2
    signs = ((1, 1), (1, -1), (-1, -1), (-1, 1))
    corners = [np.array([cx, cy]) + a * fwd + b * side for a, b in signs]
    draw.polygon([px(*c) for c in corners], fill=colour)


def render_text(state, task) -> str:
    """The road straightened out, 30 m ahead to 6 m behind, left side on the left:
    `A` our car, `C` traffic, `P` a pedestrian, `b` a cyclist (`x` once hit), `|` the road edges,
    `=` the finish line."""
    rows = []
    header = (
        f"t={int(state.t) / 10:.1f}s  s={float(state.s):.1f}/{float(task.length):.0f} m  "
        f"v={float(state.v):.1f} m/s  d={float(state.d):+.2f} m  mu={float(task.mu):.2f}"
    )
    columns = np.arange(5.0, -5.5, -1.0)  # lateral metres, left to right
    for ahead in np.arange(30.0, -7.0, -3.0):
        s_row = float(state.s) + ahead
        cells = [" " if abs(c) > HALF_WIDTH else "." for c in columns]
        if abs(s_row - float(task.length)) < 1.5:
            cells = ["=" if abs(c) <= HALF_WIDTH else " " for c in columns]
        for i in np.flatnonzero(np.asarray(task.car_mask)):
            if abs(float(state.car_s[i]) - s_row) < 1.5:
                cells[int(np.argmin(np.abs(columns - float(task.car_d[i]))))] = "C"
        for i in np.flatnonzero(np.asarray(task.ped_mask)):
            y = float(state.ped_y[i])
            where = float(road_user_s(task, state.t)[i])
            mark = "b" if float(task.ped_kind[i]) == 1.0 else "P"
            if abs(where - s_row) < 1.5 and abs(y) <= PED_START + 0.5:
                cells[int(np.argmin(np.abs(columns - y)))] = "x" if bool(state.ped_hit[i]) else mark
        if abs(ahead) < 1.5:
            cells[int(np.argmin(np.abs(columns - float(state.d))))] = "A"
        rows.append(f"{ahead:+5.0f}m |" + "".join(cells) + "|")
    return "\n".join([header, *rows])
