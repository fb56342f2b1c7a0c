"""A synthetic camera near the ground looking up a residential high-rise, for objects thrown or
falling from it (高空抛物).

The floors are painted where the camera's floor lines say (each line is the bottom edge of a
floor, about 3 m apart), inside the facade polygon. Objects dropped from a floor fall freely
from rest: their height is h0 - g t²/2 in metres, and the floor lines turn metres into picture
rows, so the fall shows the same perspective as the floors it passes. Birds, leaves and bags,
people on balconies, windows lighting up, rain and changes of light are the distractions.

Everything is drawn from the seed and the timeline, so `render(t)` gives the same picture for
the same (seed, timeline, t), for any t in any order. Scene time is seconds as a float.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from simulators.scenes.camera_effects import (
    NOISE_MARGIN,
    add_sensor_noise,
    frame_key,
    lighting_gain,
)
from simulators.scenes.facade_layout import (
    GRAVITY,
    STOREY_M,
    FacadeGeometry,
    choose_look,
    plan_bays,
)
from simulators.scenes.facade_movers import (
    OBJECT_COLOURS,
    SHAPES_BY_SIZE,
    SIZE_PX,
    BalconyPerson,
    Bird,
    Drifter,
    Fall,
    Mover,
    box_of,
)
from simulators.scenes.facade_paint import paint_facade, paint_rain

RAIN_LAYERS = 6


class FacadeScene:
    """A deterministic facade camera: add falls and distractions, then render any time."""

    def __init__(
        self,
        floor_lines: Sequence[Mapping[str, float]],
        facade: Sequence[Sequence[float]],
        *,
        seed: int,
        width: int = 640,
        height: int = 480,
        fps_hint: float = 10.0,
    ) -> None:
        if width < 64 or height < 64:
            raise ValueError(f"scene size {width}x{height} is too small (at least 64x64)")
        if fps_hint <= 0:
            raise ValueError(f"fps_hint must be > 0, got {fps_hint}")
        self.width, self.height, self.seed, self.fps_hint = width, height, seed, fps_hint
        self._rng = rng = np.random.default_rng(seed)
        width_m = float(rng.uniform(30, 45))
        self.geometry = FacadeGeometry.from_config(floor_lines, facade, width, height, width_m)
        self.look = choose_look(rng)
        self.bays = plan_bays(rng, width_m)
        picture = paint_facade(self.geometry, self.look, self.bays, rng)
        self._dark, self._lit = picture.dark, picture.lit
        self._glazing, self._balconies = picture.glazing, picture.balconies
        self._lit_at_start = rng.random(len(self._glazing)) < self.look.lit_share
        self._background = self._dark.copy()
        for index in np.flatnonzero(self._lit_at_start):
            self._switch(self._background, index, lit=True)
        self._roll = cv2.getRotationMatrix2D((width / 2, height / 2), self.look.roll_deg, 1.0)
        noise = rng.normal(0, self.look.noise, (height + NOISE_MARGIN, width + NOISE_MARGIN, 3))
        self._noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self._noise_down = np.clip(-noise, 0, 255).astype(np.uint8)
        self._object_light = max(self.look.ambient, 0.4)
        # The shutter is open for less than a frame interval; that sets the blur streaks.
        self._exposure_s = min(self.look.exposure_s, 0.8 / fps_hint)
        self._movers: list[Mover] = []
        self._starts: list[float] = []
        self._longest = 0.0
        self._toggles: dict[int, list[float]] = {}
        self._lighting: list[tuple[float, float, float]] = []
        self._rain: list[tuple[float, float]] = []
        self._rain_layers: list[np.ndarray] = []

    # ---- timeline -------------------------------------------------------------------------

    def drop_object(
        self, t: float, floor: int, x: float | None = None, size: str = "medium"
    ) -> None:
        """An object leaves a window or balcony of `floor` at time t and falls to the ground.

        `x` is where, as a normalised picture column (default: a random window or balcony);
        `size` is "small" (a can), "medium" (a bottle or flower pot) or "large" (a bag of
        rubbish or a big pot).
        """
        rng, geo = self._rng, self.geometry
        if size not in SIZE_PX:
            raise ValueError(f"size must be one of {', '.join(SIZE_PX)}, got {size!r}")
        self._check_floor(floor)
        h0 = (floor - 1) * STOREY_M + float(rng.uniform(1.0, 1.5))  # over a railing or sill
        if x is None:
            bay = self.bays[int(rng.choice(self._open_bays()))]
            u0 = bay.centre + float(rng.uniform(-0.3, 0.3)) * (bay.u1 - bay.u0)
        else:
            u0 = geo.u_at(x * self.width, float(geo.y_at(h0)))
            if not 0 <= u0 <= geo.width_m:
                raise ValueError(f"x {x} is not on the facade at floor {floor}")
        shape = str(rng.choice(SHAPES_BY_SIZE[size]))
        colours = OBJECT_COLOURS[shape][int(rng.integers(len(OBJECT_COLOURS[shape])))]
        lowest = max(0.0, float(geo.h_at(self.height + SIZE_PX[size])))
        duration = math.sqrt(2 * max(h0 - lowest, 0.0) / GRAVITY)
        drift = float(rng.uniform(-0.8, 0.8))
        drift = max(min(drift, (geo.width_m - u0) / duration), -u0 / duration) if duration else 0
        fall = Fall(
            t_start=t,
            t_end=t + duration,
            floor=floor,
            u0=u0,
            h0=h0,
            drift=drift,
            shape=shape,
            colours=tuple(self._lit_colour(c) for c in colours),  # type: ignore[arg-type]
            size_px=SIZE_PX[size] * self.width / 640 * float(rng.uniform(0.9, 1.2)),
            spin=float(rng.uniform(2, 12) * rng.choice([-1, 1])),
            exposure_s=self._exposure_s,
        )
        self._add(fall)

    def bird(self, t: float) -> None:
        """A bird flies across the picture, flapping or gliding."""
        rng, w = self._rng, self.width
        span = float(rng.uniform(8, 18)) * w / 640
        direction = 1 if rng.random() < 0.5 else -1
        speed = float(rng.uniform(90, 220)) * w / 640
        gliding = rng.random() < 0.3
        start_x = -span if direction > 0 else w + span
        self._add(
            Bird(
                t_start=t,
                t_end=t + (w + 2 * span) / speed,
                x0=start_x,
                y0=float(rng.uniform(0.05, 0.75)) * self.height,
                vx=direction * speed,
                climb=speed * float(rng.uniform(0.05, 0.2) if gliding else rng.uniform(-0.1, 0.1)),
                bob_px=0.0 if gliding else float(rng.uniform(1, 4)),
                bob_hz=float(rng.uniform(0.5, 1.2)),
                flap_hz=0.0 if gliding else float(rng.uniform(3, 7)),
                span_px=span,
                colour=self._lit_colour((44, 46, 52) if rng.random() < 0.7 else (90, 92, 98)),
            )
        )

    def leaf_or_bag(self, t: float) -> None:
        """A leaf or a plastic bag drifts down slowly, swaying; it sinks at a steady speed."""
        rng, geo = self._rng, self.geometry
        leaf = rng.random() < 0.6
        sink = float(rng.uniform(0.8, 1.8) if leaf else rng.uniform(0.4, 1.1))
        h0 = float(rng.uniform(0.3, 1.0)) * geo.roof_h
        lowest = max(0.0, float(geo.h_at(self.height + 10)))
        colour = [(40, 150, 120), (30, 120, 170), (40, 90, 120)][int(rng.integers(3))]
        if not leaf:
            colour = [(235, 235, 235), (200, 170, 230), (220, 180, 120)][int(rng.integers(3))]
        self._add(
            Drifter(
                t_start=t,
                t_end=t + (h0 - lowest) / sink,
                u0=float(rng.uniform(-0.1, 1.1)) * geo.width_m,
                h0=h0,
                sink=sink,
                drift=float(rng.uniform(-0.4, 0.4)),
                sway_m=float(rng.uniform(0.4, 1.5)),
                sway_hz=float(rng.uniform(0.2, 0.5)),
                phase=float(rng.uniform(0, 2 * math.pi)),
                size_px=float(rng.uniform(3, 6) if leaf else rng.uniform(7, 12)) * self.width / 640,
                colour=self._lit_colour(colour),
                label="leaf" if leaf else "plastic_bag",
            )
        )

    def person_on_balcony(self, t: float, floor: int, stay_s: float) -> None:
        """Someone steps onto a balcony of `floor` at t and goes back in after stay_s."""
        rng = self._rng
        if stay_s <= 0:
            raise ValueError(f"stay_s must be > 0, got {stay_s}")
        self._check_floor(floor)
        balconies = [b for b in self._balconies if b.floor == floor]
        if not balconies:
            raise ValueError(f"floor {floor} has no balcony in view")
        balcony = balconies[int(rng.integers(len(balconies)))]
        clothes = tuple(float(c) for c in rng.integers(40, 230, 3))
        self._add(
            BalconyPerson(
                t_start=t,
                t_end=t + stay_s,
                floor=floor,
                spot=float(rng.uniform(balcony.u0 + 0.5, balcony.u1 - 0.5)),
                floor_h=(floor - 1) * STOREY_M,
                rail_m=balcony.rail_m,
                behind_glass=balcony.enclosed,
                clothes=self._lit_colour(clothes),  # type: ignore[arg-type]
                hair=self._lit_colour((28, 30, 36)),
                skin=self._lit_colour((130, 160, 200)),
            )
        )

    def light_switch(self, t: float, floor: int) -> None:
        """A window of `floor` lights up, or goes dark if it was lit."""
        self._check_floor(floor)
        panes = [i for i, pane in enumerate(self._glazing) if pane.floor == floor]
        if not panes:
            raise ValueError(f"floor {floor} has no window in view")
        times = self._toggles.setdefault(int(self._rng.choice(panes)), [])
        bisect.insort(times, t)

    def rain(self, t0: float, t1: float) -> None:
        """Rain from t0 to t1: streaks across the picture and a greyer, flatter light."""
        if t1 <= t0:
            raise ValueError(f"rain needs t1 > t0, got {t0}, {t1}")
        self._rain.append((t0, t1))
        if not self._rain_layers:
            rng = np.random.default_rng(self.seed + 7919)  # the timeline's draws stay as they are
            self._rain_layers = paint_rain(self.width, self.height, self.look, RAIN_LAYERS, rng)

    def set_lighting(self, t0: float, t1: float, gain: float) -> None:
        """Change the overall brightness to `gain` (1 = the scene's normal light), ramping
        linearly from t0 to t1: a short ramp is a passing cloud, a long one nightfall."""
        if gain <= 0 or t1 < t0:
            raise ValueError(f"set_lighting needs gain > 0 and t1 >= t0, got {t0}, {t1}, {gain}")
        self._lighting.append((t0, t1, gain))
        self._lighting.sort()

    # ---- ground truth ---------------------------------------------------------------------

    def falls(self) -> list[tuple[float, float, int]]:
        """Ground truth: (time it was let go, last time it is in view, floor it came from)."""
        return sorted((m.t_start, m.t_end, m.floor) for m in self._movers if isinstance(m, Fall))

    def objects_at(self, t: float) -> list[tuple[str, tuple[float, float, float, float]]]:
        """Ground truth: (label, (x, y, w, h) normalised) of every mover in view at t.

        Labels: "falling_object", "bird", "leaf", "plastic_bag", "person".
        """
        found = []
        w, h = self.width, self.height
        for mover in self._active(t):
            if isinstance(mover, BalconyPerson) and mover.opacity(t) <= 0:
                continue
            x0, y0, x1, y1 = self._rolled_box(box_of(mover.outline(t, self.geometry)))
            x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
            if x1 > x0 and y1 > y0:
                found.append((mover.label, (x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h)))
        return found

    # ---- rendering ------------------------------------------------------------------------

    def render(self, t: float) -> np.ndarray:
        """The camera frame at scene time t: BGR uint8, height x width x 3."""
        frame = self._background.copy()
        for index, times in self._toggles.items():
            if bisect.bisect_right(times, t) % 2:  # switched an odd number of times by t
                self._switch(frame, index, lit=not self._lit_at_start[index])
        for mover in self._active(t):
            mover.draw(frame, t, self.geometry)
        frame = cv2.warpAffine(
            frame, self._roll, (self.width, self.height), borderMode=cv2.BORDER_REPLICATE
        )
        key = frame_key(self.seed, t)
        if any(t0 <= t < t1 for t0, t1 in self._rain):
            cv2.addWeighted(frame, 0.82, frame, 0, 0.18 * 150 * self.look.ambient, dst=frame)
            cv2.add(frame, self._rain_layers[key % RAIN_LAYERS], dst=frame)
        gain = self.gain(t)
        if gain != 1.0:
            frame = cv2.convertScaleAbs(frame, alpha=gain)
        add_sensor_noise(frame, self._noise_up, self._noise_down, key)
        return frame

    def gain(self, t: float) -> float:
        """Overall brightness at time t (1 = normal), from the set_lighting ramps."""
        return lighting_gain(self._lighting, t)

    # ---- internals ------------------------------------------------------------------------

    def _check_floor(self, floor: int) -> None:
        geo = self.geometry
        if not geo.first_floor <= floor <= geo.top_floor:
            raise ValueError(
                f"floor {floor} is not in view (floors {geo.first_floor}..{geo.top_floor})"
            )

    def _open_bays(self) -> list[int]:
        return [i for i, b in enumerate(self.bays) if b.kind in ("balcony", "window")]

    def _lit_colour(self, colour: Sequence[float]) -> tuple[float, float, float]:
        b, g, r = (min(255.0, float(c) * self._object_light) for c in colour)
        return (b, g, r)

    def _add(self, mover: Mover) -> None:
        index = bisect.bisect_right(self._starts, mover.t_start)
        self._movers.insert(index, mover)
        self._starts.insert(index, mover.t_start)
        self._longest = max(self._longest, mover.t_end - mover.t_start)

    def _active(self, t: float) -> list[Mover]:
        """Movers in view at t; they are sorted by start, so only a window is scanned."""
        first = bisect.bisect_left(self._starts, t - self._longest)
        last = bisect.bisect_right(self._starts, t)
        return [m for m in self._movers[first:last] if m.t_start <= t <= m.t_end]

    def _switch(self, frame: np.ndarray, index: int, lit: bool) -> None:
        pane = self._glazing[index]
        source = self._lit if lit else self._dark
        h, w = pane.mask.shape
        view = (slice(pane.y0, pane.y0 + h), slice(pane.x0, pane.x0 + w))
        np.copyto(frame[view], source[view], where=pane.mask[..., None])

    def _rolled_box(self, box: tuple[float, float, float, float]) -> tuple[float, ...]:
        x0, y0, x1, y1 = box
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]])
        turned = corners @ self._roll.T
        (ax, ay), (bx, by) = turned.min(axis=0), turned.max(axis=0)
        return float(ax), float(ay), float(bx), float(by)


def schedule_random_incidents(
    scene: FacadeScene,
    *,
    seed: int,
    duration_s: float,
    drop_every_s: float = 400.0,
    first_drop_at: float | None = None,
) -> None:
    """Fill `duration_s` of scene time with a plausible day: birds, leaves and bags, people on
    balconies, windows lighting up (more at dusk), now and then rain, and every few minutes
    an object dropped from a random floor. The first drop is at `first_drop_at` when given.
    """
    rng = np.random.default_rng(seed)
    geo = scene.geometry
    floors = range(max(geo.first_floor, 2), geo.top_floor + 1)
    with_balcony = sorted({b.floor for b in scene._balconies if b.floor in floors})
    t = first_drop_at if first_drop_at is not None else float(rng.uniform(0.2, 0.6)) * drop_every_s
    while t < duration_s:
        size = str(rng.choice(["small", "medium", "medium", "large"]))
        scene.drop_object(t, int(rng.choice(floors)), size=size)
        t += drop_every_s * float(rng.uniform(0.7, 1.3))
    for gap, add in (((15, 90), scene.bird), ((40, 160), scene.leaf_or_bag)):
        t = float(rng.uniform(0, gap[1]))
        while t < duration_s:
            add(t)
            t += float(rng.uniform(*gap))
    t = float(rng.uniform(10, 120))
    while with_balcony and t < duration_s:
        stay = float(rng.uniform(8, 150))
        scene.person_on_balcony(t, int(rng.choice(with_balcony)), stay)
        t += stay + float(rng.uniform(20, 200))
    switch_gap = {"day": 120.0, "dusk": 12.0}.get(scene.look.mode, 40.0)
    t = float(rng.uniform(0, switch_gap))
    while t < duration_s:
        scene.light_switch(t, int(rng.choice(floors)))
        t += float(rng.exponential(switch_gap))
    if rng.random() < 0.3:
        start = float(rng.uniform(0, duration_s))
        end = start + float(rng.uniform(300, 1200))
        scene.rain(start, end)
        scene.set_lighting(start, start + 30, 0.8)
        scene.set_lighting(end, end + 60, 1.0)
    elif scene.look.mode == "day":
        t = float(rng.uniform(30, 300))
        while t < duration_s:  # clouds passing over the sun
            scene.set_lighting(t, t + 8, float(rng.uniform(0.8, 0.92)))
            scene.set_lighting(t + 40, t + 50, 1.0)
            t += float(rng.uniform(120, 600))
