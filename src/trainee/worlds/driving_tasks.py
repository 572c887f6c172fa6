"""driving: the task generator (splits, levels) and the scripted oracle controller.

Split rule (stated on the train side by `Driving.is_train`): a train task has
max |curvature| <= 0.02, mu >= 0.7, no sensor noise, <= 2 cars and pedestrians (no
cyclists); each held-out split moves exactly one of those five out of the train range.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from trainee.worlds.driving_core import (
    ACCEL,
    CAR_LENGTH,
    LANE_D,
    LOOKAHEAD,
    NUM_CARS,
    NUM_KNOTS,
    NUM_PEDS,
    PED_START,
    STEER,
    DrivingState,
    DrivingTask,
    G,
    road_curvature,
    road_user_s,
    traffic_speed,
)
from trainee.worlds.padded_tasks import sample_padded

NUM_LEVELS = 4
SPLITS = ("train", "curvy", "ice", "night", "traffic", "cyclists")  # Driving.splits: one list
CRUISE = 12.0  # the oracle's preferred speed, m/s


def _levels(key, n, level):
    """(n,) int32 levels: `level` (a traced int32; -1 = a uniform mix of all levels)."""
    mixed = jax.random.randint(key, (n,), 0, NUM_LEVELS)
    return jnp.where(level < 0, mixed, level).astype(jnp.int32)


def check_level(level: int | None) -> int:
    """The level as an int for the jitted sampler (-1 for None), validated on the host."""
    if level is None:
        return -1
    if not 0 <= level < NUM_LEVELS:
        raise ValueError(f"driving level must be in 0..{NUM_LEVELS - 1}, got {level}")
    return int(level)


def _road(key, n, curvy, lv):
    """Knot curvatures scaled so that the largest |knot| is exactly `peak`."""
    key_shape, key_peak, key_len = jax.random.split(key, 3)
    shape = jax.random.uniform(key_shape, (n, NUM_KNOTS), minval=-1.0, maxval=1.0)
    shape = shape.at[:, 0].set(0.0)  # start on a straight so the first step is fair
    shape = shape / jnp.max(jnp.abs(shape), axis=1, keepdims=True)
    u = jax.random.uniform(key_peak, (n,))
    # train: 0 .. 0.02 across levels 0-3; curvy: 0.03 .. 0.05
    peak = jnp.where(curvy, 0.03 + 0.02 * u, 0.005 * (lv + u))
    length = 60.0 + 10.0 * lv + 10.0 * jax.random.uniform(key_len, (n,))
    return shape * peak[:, None], length


def _traffic(key, n, more_traffic, lv):
    """Cars alternate lanes front to back with 10-22 m between consecutive ones (6-12 m
    in `traffic`); cars in a lane share one speed, so traffic never catches up with
    itself."""
    k_count, k_gap, k_lane, k_speed = jax.random.split(key, 4)
    most = jnp.minimum(lv, 2)
    count = jnp.where(more_traffic, jax.random.randint(k_count, (n,), 4, NUM_CARS + 1),
                      jax.random.randint(k_count, (n,), 0, most + 1))
    shape = (n, NUM_CARS)  # `traffic`: more cars, closer together
    gaps = jnp.where(more_traffic, jax.random.uniform(k_gap, shape, minval=6.0, maxval=12.0),
                     jax.random.uniform(k_gap, shape, minval=10.0, maxval=22.0))
    s0 = 8.0 + jnp.cumsum(gaps, 1)
    first = jax.random.randint(k_lane, (n, 1), 0, 2)
    lane = (first + jnp.arange(NUM_CARS)) % 2  # (n, NUM_CARS): 0 right, 1 left
    lane_speed = jax.random.uniform(k_speed, (n, 2), minval=6.0, maxval=9.0)
    speed = jnp.take_along_axis(lane_speed, lane, 1)
    mask = jnp.arange(NUM_CARS)[None, :] < count[:, None]
    return s0, (2.0 * lane - 1.0) * LANE_D, speed, mask


def _pedestrians(key, n, length):
    k_count, k_s, k_side, k_speed, k_trig = jax.random.split(key, 5)
    count = jax.random.randint(k_count, (n,), 1, NUM_PEDS + 1)
    u = jax.random.uniform(k_s, (n, NUM_PEDS))
    # Pedestrian i crosses in the i-th part of the route, so two never cross together.
    s = 30.0 + (length[:, None] - 45.0) * (jnp.arange(NUM_PEDS) + u) / NUM_PEDS
    side = jnp.where(jax.random.bernoulli(k_side, 0.5, (n, NUM_PEDS)), 1.0, -1.0)
    speed = jax.random.uniform(k_speed, (n, NUM_PEDS), minval=1.2, maxval=2.0)
    trigger = jax.random.uniform(k_trig, (n, NUM_PEDS), minval=20.0, maxval=35.0)
    mask = jnp.arange(NUM_PEDS)[None, :] < count[:, None]
    return s, side, speed, trigger, mask


def _cyclists(key, n, length):
    """The `cyclists` split's road users: 1-2 cyclists, each starting in its own stretch
    of the first two thirds of the route (so that a car at cruising speed catches up with
    it before the end), riding at 3-5 m/s along y = -2.9 .. -2.5 m, the outer half of the
    right lane: a car in the lane centre (d = -1.75) hits one unless it moves over."""
    k_count, k_s, k_y, k_speed = jax.random.split(key, 4)
    count = jax.random.randint(k_count, (n,), 1, NUM_PEDS + 1)
    u = jax.random.uniform(k_s, (n, NUM_PEDS))
    s = 10.0 + (length[:, None] / 1.5 - 20.0) * (jnp.arange(NUM_PEDS) + u) / NUM_PEDS
    y = -2.9 + 0.4 * jax.random.uniform(k_y, (n, NUM_PEDS))
    speed = jax.random.uniform(k_speed, (n, NUM_PEDS), minval=3.0, maxval=5.0)
    mask = jnp.arange(NUM_PEDS)[None, :] < count[:, None]
    return s, y, speed, mask


def _road_users(key, n, cyclists, length):
    """(s, side, speed, trigger, mask, kind, y0) of the pedestrians, or in `cyclists` of
    the cyclists in the same slots (a new kind of road user)."""
    ped_s, ped_side, ped_speed, ped_trigger, ped_mask = _pedestrians(key, n, length)
    cyc_s, cyc_y0, cyc_speed, cyc_mask = _cyclists(key, n, length)
    pick = lambda cyclist, pedestrian: jnp.where(cyclists, cyclist, pedestrian)
    return (pick(cyc_s, ped_s), pick(-jnp.ones_like(ped_s), ped_side),
            pick(cyc_speed, ped_speed), ped_trigger, pick(cyc_mask, ped_mask),
            pick(jnp.ones_like(ped_s), jnp.zeros((n, NUM_PEDS), jnp.float32)),
            pick(cyc_y0, ped_side * PED_START))


def sample_tasks(key, split: str, n: int, level: jax.Array) -> DrivingTask:
    """`n` tasks of `split` at `level` (a traced int32, -1 = mixed): one compiled program
    for every split and every n up to a power of two (`trainee.worlds.padded_tasks`)."""
    return sample_padded(_padded_driving_tasks, "driving", SPLITS, key, split, n, level)


@partial(jax.jit, static_argnums=2)  # one compile per padded n, for every split
def _padded_driving_tasks(key, split: jax.Array, n: int, level: jax.Array) -> DrivingTask:
    """Every split's rule is computed and the split's one selected (`jnp.where`): each
    value is computed exactly as a sampler specialised to the split would."""
    is_split = lambda name: split == SPLITS.index(name)
    k_lv, k_road, k_cars, k_peds, k_mu, k_noise = jax.random.split(key, 6)
    lv = _levels(k_lv, n, level)
    curvature, length = _road(k_road, n, is_split("curvy"), lv)
    car_s0, car_d, car_v, car_mask = _traffic(k_cars, n, is_split("traffic"), lv)
    ped_s, ped_side, ped_speed, ped_trigger, ped_mask, ped_kind, ped_y0 = _road_users(
        k_peds, n, is_split("cyclists"), length)
    u = jax.random.uniform(k_mu, (n,))
    mu = jnp.where(is_split("ice"), 0.2 + 0.15 * u, 0.7 + 0.3 * u)
    peak = jnp.max(jnp.abs(curvature), axis=1)
    difficulty = 50.0 * peak + jnp.sum(car_mask, 1) + (length - 60.0) / 20.0 + 2.0 * (1.0 - mu)
    # Sensor noise at night only; the difficulty adds it in the same expression (so its
    # rounding is the specialised sampler's, to the bit).
    night = jax.random.uniform(k_noise, (n,), minval=0.05, maxval=0.2)
    noise = jnp.where(is_split("night"), night, jnp.zeros((n,), jnp.float32))
    difficulty = jnp.where(is_split("night"), difficulty + 10 * night, difficulty)
    return DrivingTask(
        curvature=curvature.astype(jnp.float32),
        length=length,
        mu=mu,
        sensor_noise=noise,
        harm_penalty=jnp.zeros((n,), jnp.float32),
        car_s0=car_s0,
        car_d=car_d,
        car_v=car_v,
        car_mask=car_mask,
        ped_s=ped_s,
        ped_side=ped_side.astype(jnp.float32),
        ped_speed=ped_speed,
        ped_trigger=ped_trigger,
        ped_mask=ped_mask,
        difficulty=difficulty.astype(jnp.float32),
        lane=jnp.zeros((n,), jnp.float32),  # either lane (Driving.tasks sets a rule)
        ped_kind=ped_kind.astype(jnp.float32),
        ped_y0=ped_y0.astype(jnp.float32),
        watched=jnp.zeros((n,), jnp.float32),  # nobody watches (the care study sets it)
    )


def _lane_gap(state: DrivingState, task: DrivingTask, lane_d: jax.Array):
    """Free road ahead in a lane, and whether the lane is clear to move into."""
    ds = state.car_s - state.s
    in_lane = task.car_mask & (jnp.abs(task.car_d - lane_d) < 0.1)
    gap = jnp.min(jnp.where(in_lane & (ds > -CAR_LENGTH), ds, 80.0))
    clear = ~jnp.any(in_lane & (ds > -12.0) & (ds < 10.0))
    return gap, clear


def _choose_lane(state: DrivingState, task: DrivingTask) -> jax.Array:
    """Keep right; overtake on the left when the right lane is blocked and the left is
    clear; come back right once it is clear again. Under a lane rule, keep to that lane
    (move into it when it is clear; no overtaking)."""
    here = jnp.where(state.d > 0.0, LANE_D, -LANE_D)
    other = -here
    gap_here, _ = _lane_gap(state, task, here)
    gap_other, clear_other = _lane_gap(state, task, other)
    prefer_other = (gap_other > gap_here + 10.0) | ((other < 0) & (gap_other >= 40.0))
    free = jnp.where(clear_other & prefer_other, other, here)
    # A lane rule (task.lane = -1 / +1): head for that lane whenever it is clear.
    ruled = task.lane * LANE_D
    _, clear_ruled = _lane_gap(state, task, ruled)
    go_ruled = (jnp.abs(here - ruled) < 0.1) | clear_ruled
    return jnp.where(task.lane == 0.0, free, jnp.where(go_ruled, ruled, here))


def _pedestrian_limit(state: DrivingState, task: DrivingTask, brake: jax.Array):
    """Speed from which the car can still stop 6 m before a pedestrian who will be in
    its path (|y - d| < 1.3 m) before the car has passed (with a 1.5 s margin)."""
    ds = task.ped_s - state.s
    rel = (state.ped_y - state.d) * task.ped_side  # > 0: not yet past our path
    arrive = (rel - 1.6) / task.ped_speed  # seconds until the pedestrian reaches our path
    # Seconds until we are past if we accelerate from now on: v t + a t^2 / 2 = distance.
    accel = jnp.minimum(ACCEL[2], task.mu * G)
    far = jnp.maximum(ds + CAR_LENGTH, 0.0)
    passed = (jnp.sqrt(state.v**2 + 2.0 * accel * far) - state.v) / accel
    threat = task.ped_mask & ~state.ped_hit & (rel > -1.6) & (arrive < passed + 1.5)
    threat = threat & (task.ped_kind == 0.0)  # cyclists: `_cyclist_clearance`
    threat = threat & (state.ped_walking | (ds < task.ped_trigger + 5.0)) & (ds > -3.0)
    room = jnp.maximum(ds - 6.0, 0.0)
    return jnp.min(jnp.where(threat, jnp.sqrt(2.0 * brake * room), 1e3))


def _cyclist_clearance(state: DrivingState, task: DrivingTask) -> jax.Array:
    """The least lateral offset d that passes every cyclist from 35 m ahead to 5 m
    behind with 2 m between their centre lines (a hit is < 1.3 m; the steering's
    quantised curvatures do not resolve a smaller move); -inf without one."""
    ds = road_user_s(task, state.t) - state.s
    near = task.ped_mask & ~state.ped_hit & (task.ped_kind == 1.0) & (ds < 35.0) & (ds > -5.0)
    return jnp.max(jnp.where(near, state.ped_y + 2.0, -jnp.inf))


def oracle_action(state: DrivingState, task: DrivingTask) -> jax.Array:
    """Pure pursuit toward the chosen lane centre (moved over to pass a cyclist) plus a
    speed controller."""
    target_d = jnp.maximum(_choose_lane(state, task), _cyclist_clearance(state, task))
    v = jnp.maximum(state.v, 1.0)
    lookahead = jnp.maximum(6.0, 0.8 * v)
    psi_goal = jnp.arctan((target_d - state.d) / lookahead)
    kappa = road_curvature(task, state.s + 0.5 * v * 0.1)
    steer = kappa + (psi_goal - state.psi) / (v * 0.4)
    steer_idx = jnp.argmin(jnp.abs(STEER - steer))
    brake = 0.8 * jnp.minimum(-ACCEL[0], task.mu * G)
    bend = jnp.max(jnp.abs(road_curvature(task, state.s + LOOKAHEAD)))
    v_curve = jnp.sqrt(0.6 * task.mu * G / jnp.maximum(bend, 1e-4))
    ds = state.car_s - state.s
    ahead = task.car_mask & (ds > -CAR_LENGTH) & (jnp.abs(task.car_d - state.d) < 2.6)
    gap = jnp.where(ahead, ds, 1e3)
    lead = jnp.argmin(gap)
    room = jnp.maximum(gap[lead] - CAR_LENGTH - 4.0, 0.0)
    v_follow = jnp.sqrt(traffic_speed(state, task)[lead] ** 2 + 2.0 * brake * room)
    v_ped = _pedestrian_limit(state, task, brake)
    target = jnp.minimum(jnp.minimum(CRUISE, v_curve), jnp.minimum(v_follow, v_ped))
    throttle = jnp.where(state.v < target - 0.3, 2, jnp.where(state.v > target + 0.3, 0, 1))
    return (3 * steer_idx + throttle).astype(jnp.int32)
