"""Who moves in the charging shed: owners bringing and fetching their bikes, and passers-by.

A `Trip` is one bike's stay at a charging place. Its owner wheels it in from beyond the right
edge of the frame along the aisle, pushes it into its place and plugs it in, then walks away;
later the owner walks in, unplugs it, backs it out into the aisle and wheels it away. A `Cast`
turns a trip, or a walk, into poses (sprite and pixel position) at any time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulators.scenes.charging_shed_layout import ShedGeometry
from simulators.scenes.side_sprites import (
    BIKE_COLOURS,
    WALK_PHASES,
    BikeLook,
    Person,
    SideSprite,
    bike_sprite,
    person_sprites,
)

WALK_SPEED = 1.2  # m/s
PUSH_SPEED = 0.9  # m/s, wheeling a bike
PLUG_S = 3.0  # plugging the charger in, or unplugging it
PULL_S = 2.5  # backing a bike out of its place, or pushing it in
STRIDE_M = 1.3  # one full walk cycle
BIKE_LOOKS = 14  # per scene; the last two are the orange and the red bike
PERSON_LOOKS = 10
OWNER_DEPTH = 0.7  # an owner stands this far in front of the parked row

TOPS = (
    (120, 80, 40),
    (60, 60, 64),
    (205, 205, 200),
    (150, 160, 170),
    (60, 110, 60),
    (170, 120, 70),
    (96, 96, 100),
    (200, 180, 150),
    (40, 70, 110),
)
LEGS = ((40, 40, 44), (120, 86, 52), (72, 72, 76), (150, 150, 150))
SKIN = ((156, 182, 214), (142, 168, 204), (118, 146, 178))
HAIR = ((24, 24, 28), (40, 46, 58), (150, 150, 155))
REDS = ((40, 36, 200), (52, 44, 220), (36, 30, 170))


@dataclass(frozen=True)
class Trip:
    """One bike's stay at a charging place: wheeled in from t_arrive, taken from t_leave."""

    socket: int
    bike: int
    rider: int
    t_arrive: float  # -inf for a bike there from the start
    t_leave: float = math.inf
    tail_light: bool = False  # lit while it is wheeled out

    def _legs(self, geo: ShedGeometry) -> tuple[float, float]:
        """Seconds to walk between its place and off-frame, and to wheel the bike that far."""
        off = geo.off_frame_x(geo.bike_z)
        slot = geo.slot_x[self.socket]
        return (off - slot + 0.2) / WALK_SPEED, (off - slot - 0.3) / PUSH_SPEED

    def in_s(self, geo: ShedGeometry) -> float:
        """Seconds from t_arrive until the owner has gone again."""
        if self.t_arrive == -math.inf:
            return 0.0
        walk, wheel = self._legs(geo)
        return wheel + PULL_S + PLUG_S + walk

    def out_s(self, geo: ShedGeometry) -> float:
        """Seconds from t_leave until the bike is out of sight."""
        walk, wheel = self._legs(geo)
        return walk + PLUG_S + PULL_S + wheel

    def plugged_in(self, geo: ShedGeometry, t: float) -> bool:
        walk, wheel = self._legs(geo)
        start = self.t_arrive + wheel + PULL_S + PLUG_S if self.t_arrive > -math.inf else -math.inf
        return start <= t < self.t_leave + walk + PLUG_S


@dataclass(frozen=True)
class Pose:
    kind: str  # "bike" or "person"
    sprite: SideSprite
    x: float  # pixel where it touches the floor
    y: float
    z: float  # depth, m
    ppm: float
    tail_light: bool = False


def _smoothstep(a: float) -> float:
    a = min(max(a, 0.0), 1.0)
    return a * a * (3 - 2 * a)


class Cast:
    """The bikes and people of one scene, their looks drawn from the seed, sprites cached."""

    def __init__(self, geo: ShedGeometry, rng: np.random.Generator) -> None:
        self.geo = geo
        colours = [
            BIKE_COLOURS[int(rng.integers(len(BIKE_COLOURS) - 2))] for _ in range(BIKE_LOOKS - 2)
        ]
        colours += [BIKE_COLOURS[-2], BIKE_COLOURS[-1]]
        self.bikes = [
            BikeLook(
                "scooter" if rng.random() < 0.62 else "bicycle",
                colour,
                BIKE_COLOURS[int(rng.choice([0, 1, 5]))] if rng.random() < 0.35 else None,
                bool(rng.random() < 0.4),
            )
            for colour in colours
        ]
        self.looks = [
            Person(
                TOPS[int(rng.integers(len(TOPS)))],
                LEGS[int(rng.integers(len(LEGS)))],
                SKIN[int(rng.integers(len(SKIN)))],
                HAIR[int(rng.integers(len(HAIR)))],
                bool(rng.random() < 0.2),
            )
            for _ in range(PERSON_LOOKS)
        ]
        self.people = PERSON_LOOKS
        self._bike_cache: dict[tuple[int, int], SideSprite] = {}
        self._person_cache: dict[tuple[int, int, int], list[SideSprite]] = {}

    def red_person(self, rng: np.random.Generator) -> int:
        """Add a look in red clothes (a long red coat, or a red jacket) and return its index."""
        coat = bool(rng.random() < 0.5)
        legs = LEGS[0] if coat else REDS[int(rng.integers(len(REDS)))]
        self.looks.append(
            Person(
                REDS[int(rng.integers(len(REDS)))], legs, SKIN[int(rng.integers(3))], HAIR[0], coat
            )
        )
        return len(self.looks) - 1

    def bike(self, look: int, x: float, z: float, tail_light: bool = False) -> Pose:
        ppm, q = self._scale(z)
        key = (look, q)
        if key not in self._bike_cache:
            self._bike_cache[key] = bike_sprite(self.bikes[look], ppm)
        px, py = self.geo.project(x, 0.0, z)
        return Pose("bike", self._bike_cache[key], px, py, z, ppm, tail_light)

    def walker(self, look: int, x: float, z: float, facing: int, walked: float | None) -> Pose:
        """A person at world (x, z); `walked` metres so far picks the step, None stands still."""
        ppm, q = self._scale(z)
        key = (look, q, facing)
        if key not in self._person_cache:
            self._person_cache[key] = person_sprites(self.looks[look], ppm, facing)
        frames = self._person_cache[key]
        phase = (
            WALK_PHASES if walked is None else int(walked / STRIDE_M * WALK_PHASES) % WALK_PHASES
        )
        px, py = self.geo.project(x, 0.0, z)
        return Pose("person", frames[phase], px, py, z, ppm)

    def trip_poses(self, trip: Trip, t: float) -> list[Pose]:
        """The bike of a trip, and its owner when they are there, at time t."""
        geo = self.geo
        slot, parked_z, aisle_z = geo.slot_x[trip.socket], geo.bike_z, geo.aisle_z
        owner_z = parked_z - OWNER_DEPTH
        beside_z = aisle_z + 0.35  # walking beside the bike, on its far side
        walk, wheel = trip._legs(geo)
        off = geo.off_frame_x(parked_z)
        if t >= trip.t_leave:
            tau, lit = t - trip.t_leave, trip.tail_light
            if tau < walk:
                x = off - WALK_SPEED * tau
                return [
                    self.bike(trip.bike, slot, parked_z),
                    self.walker(trip.rider, x, owner_z, -1, WALK_SPEED * tau),
                ]
            tau -= walk
            if tau < PLUG_S:
                return [
                    self.bike(trip.bike, slot, parked_z),
                    self.walker(trip.rider, slot - 0.2, owner_z, -1, None),
                ]
            tau -= PLUG_S
            if tau < PULL_S:
                a = _smoothstep(tau / PULL_S)
                bike = self.bike(
                    trip.bike, slot + 0.3 * a, parked_z + (aisle_z - parked_z) * a, lit
                )
                owner = self.walker(
                    trip.rider, slot - 0.2 + 0.15 * a, owner_z + (beside_z - owner_z) * a, 1, None
                )
                return [bike, owner]
            tau -= PULL_S
            if tau < wheel:
                x = slot + 0.3 + PUSH_SPEED * tau
                return [
                    self.bike(trip.bike, x, aisle_z, lit),
                    self.walker(trip.rider, x - 0.35, beside_z, 1, PUSH_SPEED * tau),
                ]
            return []
        tau = t - trip.t_arrive
        if tau < wheel:
            x = off - PUSH_SPEED * tau
            return [
                self.bike(trip.bike, x, aisle_z),
                self.walker(trip.rider, x - 0.35, beside_z, -1, PUSH_SPEED * tau),
            ]
        tau -= wheel
        if tau < PULL_S:
            a = _smoothstep(tau / PULL_S)
            bike = self.bike(trip.bike, slot + 0.3 * (1 - a), aisle_z + (parked_z - aisle_z) * a)
            owner = self.walker(
                trip.rider, slot - 0.05 - 0.15 * a, beside_z + (owner_z - beside_z) * a, -1, None
            )
            return [bike, owner]
        tau -= PULL_S
        parked = self.bike(trip.bike, slot, parked_z)
        if tau < PLUG_S:
            return [parked, self.walker(trip.rider, slot - 0.2, owner_z, -1, None)]
        tau -= PLUG_S
        if tau < walk:
            return [
                parked,
                self.walker(
                    trip.rider, slot - 0.2 + WALK_SPEED * tau, owner_z, 1, WALK_SPEED * tau
                ),
            ]
        return [parked]

    def _scale(self, z: float) -> tuple[float, int]:
        """Pixels per metre at depth z, in steps of 3% so sprites can be reused."""
        q = round(math.log(self.geo.scale(z)) / math.log(1.03))
        return 1.03**q, q
