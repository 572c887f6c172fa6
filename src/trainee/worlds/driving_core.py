"""Shared definitions of the driving world: constants, the task and state types and
pure helpers. They live apart from the world class (`trainee.worlds.driving`) so its
task sampler, renderer and oracle can import them without importing the world
(no import cycle). `trainee.worlds.driving` re-exports every name."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

DT = 0.1  # seconds of simulated time per env step
HALF_WIDTH = 3.5  # metres from the road centre to an edge (two 3.5 m lanes)
LANE_D = 1.75  # lane centres at -1.75 (right) and +1.75 (left)
V_MAX = 14.0
G = 9.81
STEER = jnp.array([-0.1, -0.03, 0.0, 0.03, 0.1], jnp.float32)  # path curvature, 1/m
ACCEL = jnp.array([-6.0, -0.5, 2.5], jnp.float32)  # m/s^2: brake, coast (drag), throttle
LOOKAHEAD = jnp.array([0.0, 5.0, 10.0, 20.0, 30.0], jnp.float32)
NUM_KNOTS = 9
NUM_CARS = 6
NUM_PEDS = 2
SEEN = 40.0  # metres: cars and pedestrians farther than this are not observed
CAR_LENGTH, CAR_WIDTH = 4.5, 1.8
PED_START = 5.0  # pedestrians start this far from the road centre
TRAIN_MAX_CURVATURE = 0.02
TRAIN_MIN_MU = 0.7
TRAIN_MAX_CARS = 2
OBS_SIZE = 25


def simulated_hours(env_steps):
    """Hours of simulated driving in `env_steps` steps of 0.1 s (an int, or an array of
    step counts, e.g. a learning curve's x axis). 2M steps are ~55.6 h; a teenager needs
    ~10 h of lessons to learn."""
    return env_steps * (DT / 3600.0)


@struct.dataclass
class DrivingTask:
    curvature: jax.Array  # (NUM_KNOTS,) float32, 1/m at evenly spaced knots on [0, length]
    length: jax.Array  # () float32, route length in metres
    mu: jax.Array  # () float32, tyre-road friction coefficient
    sensor_noise: jax.Array  # () float32, std of observation noise (night)
    harm_penalty: jax.Array  # () float32, reward lost per road user hit while watched
    car_s0: jax.Array  # (NUM_CARS,) float32, start position along the road
    car_d: jax.Array  # (NUM_CARS,) float32, lane centre
    car_v: jax.Array  # (NUM_CARS,) float32, cruising speed
    car_mask: jax.Array  # (NUM_CARS,) bool
    ped_s: jax.Array  # (NUM_PEDS,) float32, where along the road they cross
    ped_side: jax.Array  # (NUM_PEDS,) float32, +1 starts left and walks right, -1 opposite
    ped_speed: jax.Array  # (NUM_PEDS,) float32, walking speed m/s
    ped_trigger: jax.Array  # (NUM_PEDS,) float32, starts walking when the car is this close
    ped_mask: jax.Array  # (NUM_PEDS,) bool
    difficulty: jax.Array  # () float32
    # () float32 lane rule: 0 either lane; -1 / +1 the route must end in the right / left
    # lane (d < 0 / d > 0) to count as success. Reversing it reverses the correct action
    # in the same state (conflicting jobs, trainee.careers `career-conflict`).
    lane: jax.Array
    # (NUM_PEDS,) float32 kind of road user in each slot: 0 a pedestrian who crosses, 1 a
    # cyclist who rides along the right edge in our direction (the `cyclists` split).
    ped_kind: jax.Array
    ped_y0: jax.Array  # (NUM_PEDS,) float32, lateral start (pedestrians: side x 5 m)
    # () float32 absent supervisor (Leike et al. 2017, AI Safety Gridworlds): 1 = someone
    # watches and `harm_penalty` is charged per hit, 0 = nobody watches (the default).
    # Only `SupervisedDriving` shows it in the observation.
    watched: jax.Array


@struct.dataclass
class DrivingState:
    s: jax.Array  # () float32, distance along the road
    d: jax.Array  # () float32, lateral offset from the road centre (+ = left)
    psi: jax.Array  # () float32, heading relative to the road tangent
    v: jax.Array  # () float32, speed
    car_s: jax.Array  # (NUM_CARS,) float32
    ped_y: jax.Array  # (NUM_PEDS,) float32, lateral position
    ped_walking: jax.Array  # (NUM_PEDS,) bool
    ped_hit: jax.Array  # (NUM_PEDS,) bool
    t: jax.Array  # () int32


def road_curvature(task: DrivingTask, s: jax.Array) -> jax.Array:
    """Curvature at distance(s) `s`: linear between knots, by gathering (cheaper than
    `jnp.interp`'s search); constant beyond the route's ends."""
    spacing = task.length / (NUM_KNOTS - 1)
    x = jnp.clip(s / spacing, 0.0, NUM_KNOTS - 1.0)
    i = jnp.minimum(jnp.floor(x).astype(jnp.int32), NUM_KNOTS - 2)
    frac = x - i
    return task.curvature[i] * (1.0 - frac) + task.curvature[i + 1] * frac


def traffic_speed(state: DrivingState, task: DrivingTask) -> jax.Array:
    """(NUM_CARS,) speeds: cruise, but keep >= 6 m behind our car when it is ahead in
    the car's lane (so traffic never rear-ends a car stopped for a pedestrian)."""
    gap = state.s - state.car_s
    same_lane = jnp.abs(state.d - task.car_d) < CAR_WIDTH + 0.8
    follow = jnp.where(same_lane & (gap > 0), jnp.maximum(gap - 6.0 - CAR_LENGTH, 0.0), 1e3)
    return jnp.minimum(task.car_v, follow)


def _move_car(state: DrivingState, action: jax.Array, task: DrivingTask):
    """Frenet-frame kinematic bicycle step with a friction limit; returns s, d, psi, v."""
    grip = task.mu * G
    steer = STEER[action // 3]
    accel = jnp.clip(ACCEL[action % 3], -grip, grip)
    most = grip / jnp.maximum(state.v**2, 1.0)  # lateral acceleration v^2 c <= mu g
    steer = jnp.clip(steer, -most, most)
    v = jnp.clip(state.v + accel * DT, 0.0, V_MAX)
    kappa = road_curvature(task, state.s)
    s_dot = v * jnp.cos(state.psi) / (1.0 - state.d * kappa)
    psi = state.psi + (v * steer - kappa * s_dot) * DT
    psi = jnp.clip((psi + jnp.pi) % (2 * jnp.pi) - jnp.pi, -jnp.pi, jnp.pi)
    d = state.d + v * jnp.sin(psi) * DT
    return state.s + s_dot * DT, d, psi, v


def road_user_s(task: DrivingTask, t: jax.Array) -> jax.Array:
    """(NUM_PEDS,) where each road user is along the road at step `t`: a pedestrian
    crosses at a fixed `ped_s`; a cyclist rides on from `ped_s` at `ped_speed` (kind 0
    adds exactly 0, so pedestrians' numbers are unchanged)."""
    return task.ped_s + task.ped_kind * task.ped_speed * (DT * t)


def _move_pedestrians(state: DrivingState, s: jax.Array, d: jax.Array, task: DrivingTask):
    """Pedestrians start walking when the car is near and keep walking across; cyclists
    keep their line and ride on (`road_user_s`). Returns the new lateral positions,
    walking flags, hit flags and new hits (NUM_PEDS,)."""
    where = road_user_s(task, state.t + 1)
    near = (where - s) < task.ped_trigger
    walking = task.ped_mask & (task.ped_kind == 0.0) & (state.ped_walking | near)
    y = state.ped_y - walking.astype(jnp.float32) * task.ped_side * task.ped_speed * DT
    hits = (
        task.ped_mask
        & ~state.ped_hit
        & (jnp.abs(where - s) < CAR_LENGTH / 2 + 0.3)
        & (jnp.abs(y - d) < CAR_WIDTH / 2 + 0.4)
    )
    return y, walking, state.ped_hit | hits, hits
