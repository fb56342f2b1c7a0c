"""How a fire at a charging place grows, flickers, smokes and dies down, in the shed's pixels.

A flaming fire starts small at the bike's battery, grows to well over a metre within a minute
and sends dark smoke up to the roof. A smouldering one (smoke only) gives off thickening grey
smoke. Once put out, the flame dies within seconds and the smoke clears over minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from simulators.scenes.charging_shed_layout import ShedGeometry
from simulators.scenes.fire_effects import FireNoise, SmokeField, hash01, paint_flame, paint_glow

FLAME_GROWTH_S = 22.0  # a flame reaches ~2/3 of its full size after this long
FLAME_DIES_S = 4.0  # an extinguished flame is gone after this long
SMOKE_CLEARS_S = 35.0  # smoke thins by 1/e this long after the fire is out
FULL_FLAME_M = 1.7  # height of a fully grown flame


@dataclass(frozen=True)
class ShedFire:
    socket: int
    t_start: float
    smoke_only: bool
    t_out: float = math.inf


class Flame(NamedTuple):
    base: tuple[float, float]  # pixel it stands on
    height: float  # px
    width: float  # px
    salt: int  # keeps the flames of different fires apart


def fire_parts(
    fires: list[ShedFire], geo: ShedGeometry, seed: int, t: float
) -> list[tuple[Flame | None, dict[str, Any]]]:
    """For each fire to be seen at t: its flame (None when there is none) and the keyword
    arguments of its smoke plume for `SmokeField.add_plume`."""
    parts: list[tuple[Flame | None, dict[str, Any]]] = []
    ppm = geo.scale(geo.bike_z)
    ms = int(round(t * 1000))
    for index, fire in enumerate(fires):
        age = t - fire.t_start
        after = max(0.0, t - fire.t_out)
        if age < 0 or after > 6 * SMOKE_CLEARS_S:
            continue
        burnt = min(age, fire.t_out - fire.t_start)
        size = 0.12 + 0.88 * (1 - math.exp(-burnt / FLAME_GROWTH_S))
        dying = max(0.0, 1 - after / FLAME_DIES_S)
        linger = math.exp(-after / SMOKE_CLEARS_S)
        sx = geo.slot_x[fire.socket]
        base = geo.project(sx + 0.22, 0.42, geo.bike_z)  # the battery, under the seat
        roof_y = geo.project(sx, geo.roof_height, geo.depth)[1]
        plume = {"ppm": ppm, "roof_y": roof_y, "age_s": age, "salt": index, "source_on": dying}
        if fire.smoke_only:
            plume.update(
                source=(base[0], base[1] - 0.2 * ppm),
                strength=min(1.0, 0.2 + burnt / 40) * linger,
                colour=(156, 157, 161),
                base_width_m=0.35,
            )
            parts.append((None, plume))
            continue
        flicker = 0.8 + 0.4 * hash01(seed, index, ms)
        height = ppm * FULL_FLAME_M * size * flicker * dying
        width = ppm * (0.3 + 0.8 * size) * (0.9 + 0.2 * hash01(ms, index, seed)) * dying
        plume.update(
            source=(base[0], base[1] - 0.7 * ppm * FULL_FLAME_M * size),
            strength=min(1.0, 0.2 + burnt / 10) * (0.55 + 0.4 * size) * linger,
            colour=(42, 42, 46),
            base_width_m=0.15 + 0.3 * size,
        )
        parts.append((Flame(base, height, width, index) if dying > 0 else None, plume))
    return parts


def paint_fires(
    frame: np.ndarray,
    parts: list[tuple[Flame | None, dict[str, Any]]],
    noise: FireNoise,
    geo: ShedGeometry,
    t: float,
    brightness: float,
) -> None:
    """Smoke first (lit by `brightness`), then the flames and their light on top."""
    if not parts:
        return
    smoke = SmokeField(geo.width, geo.height)
    for _, plume in parts:
        smoke.add_plume(noise, t, **plume)
    smoke.paint(frame, brightness)
    for flame, _ in parts:
        if flame is None:
            continue
        base, height, width, salt = flame
        glow = (0.6 + 0.4 * hash01(int(round(t * 1000)), salt, 7)) * min(1.0, height / 60)
        paint_glow(frame, (base[0], base[1] - height * 0.3), height * 1.2 + width, 40 * glow)
        tongues = 1 + int(width / (0.3 * geo.scale(geo.bike_z)))
        paint_flame(frame, noise, base, height, width, t, salt, tongues)
