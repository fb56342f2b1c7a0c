"""A synthetic camera in an e-bike charging shed (电动车充电棚), for simulators, demos and tests.

The camera hangs under the roof and looks at the back wall: a row of parked e-bikes, each
below a numbered charging box with its cable plugged in, a concrete floor, and through the
open right-hand side the sunny estate outside. On the timeline people park and take bikes,
walk through (some in red), bikes are wheeled out with their red tail light on, sunlight
patches drift across the floor, dusk falls and the lamps come on, and fires start at a
charging place: a flame that flickers and grows, or smoke only, until they are put out.

Everything is drawn from the seed and the timeline, so `render(t)` gives the same picture for
the same (seed, timeline, t), for any t in any order. Scene time is seconds as a float.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from simulators.scenes.camera_effects import (
    NOISE_MARGIN,
    add_sensor_noise,
    frame_key,
    lighting_gain,
)
from simulators.scenes.charging_shed_fire import (
    SMOKE_CLEARS_S,
    ShedFire,
    fire_parts,
    paint_fires,
)
from simulators.scenes.charging_shed_layout import (
    SOCKET_BOX_M,
    SOCKET_BOX_Y,
    ShedGeometry,
    paint_shed,
    sun_patches,
)
from simulators.scenes.charging_shed_people import BIKE_LOOKS, WALK_SPEED, Cast, Pose, Trip
from simulators.scenes.fire_effects import FireNoise, SmokeField, paint_glow

LAMP_BGR = np.float32([0.96, 1.0, 1.0])
TAIL_LIGHT_BGR = np.float32([0.12, 0.1, 1.0])
SUN_BGR = np.float32([0.92, 1.0, 1.06])


@dataclass(frozen=True)
class _Walk:
    person: int
    t_enter: float
    x0: float
    x1: float
    z: float

    @property
    def t_end(self) -> float:
        return self.t_enter + abs(self.x1 - self.x0) / WALK_SPEED


class ChargingShedScene:
    """A deterministic charging-shed camera: add people, bikes and fires, then render any time.

    Sockets are numbered 0..sockets-1 from left to right (their boxes read 01, 02, ...). Every
    place starts with a bike on charge; bikes taken and parked at one socket are added in
    time order.
    """

    def __init__(self, *, seed: int, sockets: int = 5, width: int = 640, height: int = 480) -> None:
        if not 1 <= sockets <= 12:
            raise ValueError(f"a charging shed has 1..12 sockets, got {sockets}")
        if width < 160 or height < 120:
            raise ValueError(f"scene size {width}x{height} is too small (at least 160x120)")
        self.width, self.height, self.seed, self.sockets = width, height, seed, sockets
        self._rng = rng = np.random.default_rng(seed)
        self.geometry = geo = ShedGeometry.from_seed(rng, sockets, width, height)
        self._shed = paint_shed(geo, rng)
        self._cast = Cast(geo, rng)
        self._noise = FireNoise(rng)
        self._tint = rng.uniform(0.94, 1.06, 3) * rng.uniform(0.9, 1.05)
        sigma = rng.uniform(1.8, 3.2)
        noise = rng.normal(0, sigma, (height + NOISE_MARGIN, width + NOISE_MARGIN, 3))
        self._noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self._noise_down = np.clip(-noise, 0, 255).astype(np.uint8)
        self._dapple = sun_patches(rng, height, width)
        rows = np.nonzero(self._shed.sun_weight.max(axis=1) > 0)[0]
        cols = np.nonzero(self._shed.sun_weight.max(axis=0) > 0)[0]
        self._sun_rows = (int(rows[0]), int(rows[-1]) + 1) if len(rows) else (0, 0)
        self._sun_cols = (int(cols[0]), int(cols[-1]) + 1) if len(cols) else (0, 0)
        self._lamps_below = float(rng.uniform(0.55, 0.7))
        lamp = self._shed.lamp_gain[..., None] * LAMP_BGR * 0.4 * 64
        self._lamp_gain = np.clip(lamp, 0, 255).astype(np.uint8)
        # Every place starts with a bike on charge; one of them is orange or red.
        looks = [int(k) for k in np.resize(rng.permutation(BIKE_LOOKS - 2), sockets)]
        looks[int(rng.integers(sockets))] = BIKE_LOOKS - 1 - int(rng.integers(2))
        self._trips: list[list[Trip]] = [
            [Trip(s, looks[s], int(rng.integers(self._cast.people)), -math.inf)]
            for s in range(sockets)
        ]
        self._trip_starts: list[list[float]] = [[-math.inf] for _ in range(sockets)]
        self._walks: list[_Walk] = []
        self._walk_starts: list[float] = []
        self._longest_walk = 0.0
        self._fires: list[ShedFire] = []
        self._sun: list[tuple[float, float, float]] = []  # (t0, t1, drift px/s)
        self._lighting: list[tuple[float, float, float]] = []

    # ---- timeline -------------------------------------------------------------------------

    def start_fire(self, t: float, socket: int, smoke_only: bool = False) -> None:
        """A fire starts at the bike on `socket` and grows until it is put out.

        With smoke_only the battery smoulders: thickening grey smoke and no flame.
        """
        self._check_socket(socket)
        self._fires.append(ShedFire(socket, t, smoke_only))
        self._fires.sort(key=lambda f: f.t_start)

    def extinguish(self, t: float, socket: int | None = None) -> None:
        """Put out every fire burning at t (only the one at `socket`, when given)."""
        burning = [
            i
            for i, f in enumerate(self._fires)
            if f.t_start <= t < f.t_out and (socket is None or f.socket == socket)
        ]
        if not burning:
            where = "" if socket is None else f" at socket {socket}"
            raise ValueError(f"no fire is burning{where} at t={t:.1f} s to put out")
        for i in burning:
            self._fires[i] = replace(self._fires[i], t_out=t)

    def person_in_red(self, t: float) -> None:
        """Someone in red clothes walks through the shed, entering at t."""
        self.walk_through(t, red=True)

    def walk_through(self, t: float, *, red: bool = False) -> None:
        """Someone walks across the shed in front of the bikes, entering at t."""
        rng, geo = self._rng, self.geometry
        z = geo.aisle_z - float(rng.uniform(0.0, 0.5))
        outside, inside = geo.off_frame_x(z), -geo.cx * z / geo.focal - 0.8
        x0, x1 = (outside, inside) if rng.random() < 0.5 else (inside, outside)
        person = self._cast.red_person(rng) if red else int(rng.integers(self._cast.people))
        walk = _Walk(person, t, x0, x1, z)
        index = bisect.bisect_right(self._walk_starts, t)
        self._walks.insert(index, walk)
        self._walk_starts.insert(index, t)
        self._longest_walk = max(self._longest_walk, walk.t_end - t)

    def park_bike(self, t: float, socket: int) -> None:
        """Someone wheels a bike in from outside, parks it at `socket` and plugs it in."""
        self._check_socket(socket)
        trips = self._trips[socket]
        last = trips[-1]
        if last.t_leave == math.inf or t < last.t_leave + last.out_s(self.geometry):
            raise ValueError(
                f"socket {socket} is taken at t={t:.1f} s: its bike leaves only at "
                f"{last.t_leave + last.out_s(self.geometry):.1f} s"
            )
        rng = self._rng
        trips.append(
            Trip(socket, int(rng.integers(BIKE_LOOKS)), int(rng.integers(self._cast.people)), t)
        )
        self._trip_starts[socket].append(t)

    def take_bike(self, t: float, socket: int, *, tail_light: bool = False) -> None:
        """Its owner walks in at t, unplugs the bike at `socket` and wheels it out."""
        self._check_socket(socket)
        last = self._trips[socket][-1]
        ready = last.t_arrive + last.in_s(self.geometry)
        if last.t_leave != math.inf or t < ready:
            raise ValueError(f"socket {socket} has no parked bike to take at t={t:.1f} s")
        self._trips[socket][-1] = replace(last, t_leave=t, tail_light=tail_light)

    def wheel_out_with_tail_light(self, t: float, socket: int) -> None:
        """The bike at `socket` is taken at t and wheeled out with its red tail light on."""
        self.take_bike(t, socket, tail_light=True)

    def sunlight(self, t0: float, t1: float) -> None:
        """From t0 to t1 the sun comes in through the open side: bright patches and glare that
        drift across the floor."""
        if t1 <= t0:
            raise ValueError(f"sunlight needs t1 > t0, got {t0}, {t1}")
        self._sun.append((t0, t1, float(self._rng.uniform(6, 16))))
        self._sun.sort()

    def set_lighting(self, t0: float, t1: float, gain: float) -> None:
        """Change the overall brightness to `gain` (1 = the scene's normal light), ramping
        linearly from t0 to t1. When it drops low enough (dusk), the lamps switch on."""
        if gain <= 0 or t1 < t0:
            raise ValueError(f"set_lighting needs gain > 0 and t1 >= t0, got {t0}, {t1}, {gain}")
        self._lighting.append((t0, t1, gain))
        self._lighting.sort()

    # ---- ground truth ---------------------------------------------------------------------

    def fires(self) -> list[tuple[float, float, int]]:
        """Ground truth: (t_start, t_end, socket) of every fire, smoke-only ones included.
        t_end is when it was put out, math.inf for a fire that is never put out."""
        return [(f.t_start, f.t_out, f.socket) for f in self._fires]

    def socket_box(self, socket: int) -> tuple[float, float, float, float]:
        """Normalised (x, y, w, h) of a charging place: the box on the wall and the bike below."""
        self._check_socket(socket)
        geo, sx = self.geometry, self.geometry.slot_x[socket]
        bw, bh = SOCKET_BOX_M
        box = geo.box_px(sx - bw / 2, SOCKET_BOX_Y, sx + bw / 2, SOCKET_BOX_Y + bh, geo.depth)
        bike = geo.box_px(sx - 0.58, 0.0, sx + 0.64, 1.34, geo.bike_z)
        return self._normalised((min(box[0], bike[0]), box[1], max(box[2], bike[2]), bike[3]))

    def objects_at(self, t: float) -> list[tuple[str, tuple[float, float, float, float]]]:
        """Ground truth: (label, normalised (x, y, w, h)) of what is in view at t. Labels:
        "bike", "person", "tail_light", "flame", "smoke"."""
        found = []
        for pose in self._poses(t):
            found.append((pose.kind, pose.sprite.box(pose.x, pose.y)))
            if pose.tail_light:
                x, y = pose.sprite.point("tail_light", pose.x, pose.y)
                r = max(2.0, 0.06 * pose.ppm)
                found.append(("tail_light", (x - r, y - r, x + r, y + r)))
        smoke = SmokeField(self.width, self.height)
        for flame, plume in fire_parts(self._fires, self.geometry, self.seed, t):
            if flame is not None:
                (bx, by), height, width, _ = flame
                found.append(("flame", (bx - 0.6 * width, by - height, bx + 0.6 * width, by)))
            box = smoke.add_plume(self._noise, t, **plume)
            if box is not None:
                found.append(("smoke", box))
        boxes = [(label, self._normalised(box)) for label, box in found]
        return [(label, box) for label, box in boxes if box[2] > 0 and box[3] > 0]

    def gain(self, t: float) -> float:
        """Overall brightness at time t (1 = normal), from the set_lighting ramps."""
        return lighting_gain(self._lighting, t)

    # ---- rendering ------------------------------------------------------------------------

    def render(self, t: float) -> np.ndarray:
        """The camera frame at scene time t: BGR uint8, height x width x 3."""
        frame = self._shed.image.copy()
        self._paint_sun(frame, t)
        poses = self._poses(t)
        self._paint_chargers(frame, t)
        for pose in poses:
            pose.sprite.paste(frame, pose.x, pose.y)
        gain = self.gain(t)
        lamps_on = gain < self._lamps_below
        if lamps_on:
            scale = tuple(float(v) for v in self._tint * gain * 64) + (0.0,)
            frame = cv2.multiply(frame, cv2.add(self._lamp_gain, scale), scale=1 / 64)
            for x0, y0, x1, y1 in self._shed.lamps:
                cv2.rectangle(frame, (x0, y0), (x1, y1), (246, 252, 255), -1)
                paint_glow(frame, ((x0 + x1) / 2, (y0 + y1) / 2), (x1 - x0) * 0.7, 60, LAMP_BGR)
        else:
            frame = cv2.transform(frame, np.diag(self._tint * gain))
        for pose in poses:
            if pose.tail_light:
                x, y = pose.sprite.point("tail_light", pose.x, pose.y)
                paint_glow(frame, (x, y), 0.22 * pose.ppm, 150, TAIL_LIGHT_BGR)
                cv2.circle(
                    frame, (int(x), int(y)), max(1, int(0.025 * pose.ppm)), (70, 60, 255), -1
                )
        parts = fire_parts(self._fires, self.geometry, self.seed, t)
        paint_fires(frame, parts, self._noise, self.geometry, t, min(1.0, gain + 0.35 * lamps_on))
        add_sensor_noise(frame, self._noise_up, self._noise_down, frame_key(self.seed, t))
        return frame

    # ---- internals ------------------------------------------------------------------------

    def _check_socket(self, socket: int) -> None:
        if not 0 <= socket < self.sockets:
            raise ValueError(
                f"socket {socket} does not exist: this shed has sockets 0..{self.sockets - 1}"
            )

    def _normalised(
        self, box: tuple[float, float, float, float]
    ) -> tuple[float, float, float, float]:
        w, h = self.width, self.height
        x0, y0 = max(box[0], 0), max(box[1], 0)
        x1, y1 = min(box[2], w), min(box[3], h)
        return (x0 / w, y0 / h, max(x1 - x0, 0) / w, max(y1 - y0, 0) / h)

    def _trip_at(self, socket: int, t: float) -> Trip | None:
        index = bisect.bisect_right(self._trip_starts[socket], t) - 1
        return self._trips[socket][index] if index >= 0 else None

    def _poses(self, t: float) -> list[Pose]:
        """Every bike and person in view at t, farthest first."""
        poses = []
        for socket in range(self.sockets):
            trip = self._trip_at(socket, t)
            if trip is not None:
                poses += self._cast.trip_poses(trip, t)
        first = bisect.bisect_left(self._walk_starts, t - self._longest_walk)
        last = bisect.bisect_right(self._walk_starts, t)
        for walk in self._walks[first:last]:
            if walk.t_enter <= t <= walk.t_end:
                step = math.copysign(WALK_SPEED * (t - walk.t_enter), walk.x1 - walk.x0)
                facing = 1 if walk.x1 > walk.x0 else -1
                poses.append(
                    self._cast.walker(walk.person, walk.x0 + step, walk.z, facing, abs(step))
                )
        poses.sort(key=lambda p: (-p.z, -p.x))
        return poses

    def _paint_chargers(self, frame: np.ndarray, t: float) -> None:
        """Status lights, and the cable from each box: to its bike, or hanging in a loop."""
        geo = self.geometry
        thick = max(1, int(round(geo.scale(geo.bike_z) * 0.018)))
        for socket, (plug, led) in enumerate(zip(self._shed.plugs, self._shed.leds, strict=True)):
            trip = self._trip_at(socket, t)
            charging = trip is not None and trip.plugged_in(geo, t)
            sx = geo.slot_x[socket]
            if charging:
                end = geo.project(sx + 0.16, 0.56, geo.bike_z)
                sag = 0.25 * geo.scale(geo.bike_z)
            else:
                end = geo.project(sx + 0.12, 0.7, geo.depth - 0.05)
                sag = 0.1 * geo.scale(geo.depth)
            k = np.linspace(0, 1, 16)[:, None]
            control = ((plug[0] + end[0]) / 2, max(plug[1], end[1]) + sag)
            curve = (1 - k) ** 2 * plug + 2 * k * (1 - k) * np.array(control) + k**2 * np.array(end)
            cv2.polylines(
                frame, [np.round(curve).astype(np.int32)], False, (26, 26, 28), thick, cv2.LINE_AA
            )
            colour = (70, 230, 80) if charging else (70, 90, 70)
            cv2.circle(frame, led, max(1, thick), colour, -1, cv2.LINE_AA)

    def _paint_sun(self, frame: np.ndarray, t: float) -> None:
        light = 0.0
        drift = 0.0
        for t0, t1, speed in self._sun:
            if t0 <= t <= t1:
                level = min(1.0, (t - t0) / 8, (t1 - t) / 8)
                if level > light:
                    light, drift = level, speed * (t - t0) + 9 * math.sin(0.5 * t)
        if light <= 0:
            return
        (top, bottom), (left, right) = self._sun_rows, self._sun_cols
        shift = int(drift) % self.width
        patches = self._dapple[top:bottom, shift + left : shift + right]
        lit = self._shed.sun_weight[top:bottom, left:right] * patches
        # Brighten by 1 + lit x colour x level, as 8-bit factors where 64 means 1.
        factor = cv2.merge(
            [cv2.convertScaleAbs(lit, alpha=64 * 0.65 * light * float(c), beta=64) for c in SUN_BGR]
        )
        region = frame[top:bottom, left:right]
        region[...] = cv2.multiply(region, factor, scale=1 / 64)


def schedule_random_incidents(
    scene: ChargingShedScene,
    *,
    seed: int,
    duration_s: float,
    fire_every_s: float = 900.0,
    first_fire_at: float | None = None,
    fire_lasts_s: float = 120.0,
) -> None:
    """Fill `duration_s` of scene time with a plausible day: owners taking and bringing back
    bikes (some wheeled out with the tail light on), passers-by and people in red, sunny
    spells, dusk with the lamps on; and every `fire_every_s` or so a fire at a parked bike
    (one in four smoke only) that is put out after `fire_lasts_s`. The first fire starts at
    `first_fire_at` when given, so a demo sees one early.
    """
    rng = np.random.default_rng(seed)
    geo = scene.geometry
    fires: list[tuple[float, float, int]] = []
    t = first_fire_at if first_fire_at is not None else float(rng.uniform(0.2, 0.5)) * fire_every_s
    while t < duration_s:
        socket = int(rng.integers(scene.sockets))
        scene.start_fire(t, socket, smoke_only=bool(fires) and rng.random() < 0.25)
        end = t + fire_lasts_s
        if end < duration_s:
            scene.extinguish(end, socket)
        fires.append((t, end, socket))
        t = max(t + fire_every_s * float(rng.uniform(0.8, 1.2)), end + 60)

    # Bikes come and go, but never from a place that is burning (or about to).
    for socket in range(scene.sockets):
        windows = [(a - 120, b + 6 * SMOKE_CLEARS_S) for a, b, s in fires if s == socket]
        t = float(rng.uniform(60, 1800))
        while t < duration_s:
            away = float(rng.uniform(120, 1500))
            probe = Trip(socket, 0, 0, t)
            busy = probe.out_s(geo) + away + probe.in_s(geo)
            clash = [b for a, b in windows if t < b and t + busy > a]
            if clash:
                t = max(clash) + 30
                continue
            if t + busy >= duration_s:
                break
            scene.take_bike(t, socket, tail_light=bool(rng.random() < 0.35))
            scene.park_bike(t + probe.out_s(geo) + away, socket)
            t += busy + float(rng.uniform(900, 5400))

    t = float(rng.uniform(20, 300))
    while t < duration_s:
        scene.walk_through(t, red=bool(rng.random() < 0.3))
        t += float(rng.uniform(120, 900))
    day, night = 24 * 3600.0, (10 * 3600.0, 20 * 3600.0)  # scene time 0 is 8 in the morning
    t = float(rng.uniform(0, 600))
    while t < duration_s:
        into_day = t % day
        if night[0] - 1800 <= into_day < night[1] + 1800:
            t += night[1] + 1800 - into_day
            continue
        spell = float(rng.uniform(300, 1500))
        scene.sunlight(t, min(t + spell, duration_s))
        t += spell + float(rng.uniform(300, 1800))
    for start in np.arange(0, duration_s, day):
        if start + night[0] < duration_s:
            scene.set_lighting(start + night[0], start + night[0] + 1800, 0.3)
            scene.set_lighting(start + night[1], start + night[1] + 1800, 1.0)
