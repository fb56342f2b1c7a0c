"""Top-down sprites for synthetic camera scenes: cars and walking pedestrians.

A sprite is drawn once, supersampled for smooth edges, rotated to its heading and given a
soft cast shadow; pasting it into a frame is then one small blend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

SUPERSAMPLE = 3

# BGR body colours of everyday cars.
CAR_COLOURS: tuple[tuple[int, int, int], ...] = (
    (236, 236, 234),  # white
    (192, 192, 188),  # silver
    (36, 36, 40),  # black
    (86, 84, 82),  # dark grey
    (40, 44, 176),  # red
    (148, 74, 34),  # blue
    (52, 92, 44),  # dark green
    (148, 182, 204),  # beige
    (40, 178, 226),  # yellow
    (112, 66, 40),  # navy
)

# Proportions along the car from rear to front: (part, fraction of length).
CAR_SHAPES: dict[str, dict[str, object]] = {
    "sedan": {
        "length": 1.0,
        "width": 0.44,
        "parts": (("trunk", 0.16), ("rear", 0.12), ("roof", 0.30), ("wind", 0.14), ("hood", 0.28)),
    },
    "hatchback": {
        "length": 0.86,
        "width": 0.46,
        "parts": (("trunk", 0.05), ("rear", 0.09), ("roof", 0.42), ("wind", 0.16), ("hood", 0.28)),
    },
    "suv": {
        "length": 1.04,
        "width": 0.47,
        "parts": (("trunk", 0.04), ("rear", 0.06), ("roof", 0.52), ("wind", 0.13), ("hood", 0.25)),
    },
    "van": {
        "length": 1.14,
        "width": 0.46,
        "parts": (("trunk", 0.02), ("rear", 0.03), ("roof", 0.71), ("wind", 0.10), ("hood", 0.14)),
    },
    "pickup": {
        "length": 1.10,
        "width": 0.46,
        "parts": (("bed", 0.34), ("rear", 0.05), ("roof", 0.20), ("wind", 0.12), ("hood", 0.29)),
    },
}


@dataclass(frozen=True)
class Sprite:
    """An image to paste centred on a point: `over` is colour x opacity, `through` is how much
    of the frame below still shows (already darkened where the sprite casts its shadow)."""

    over: np.ndarray  # float32 (h, w, 3)
    through: np.ndarray  # float32 (h, w, 1)
    body: tuple[int, int, int, int]  # (x0, y0, x1, y1) of the object itself, shadow excluded

    def body_box(self, cx: float, cy: float) -> tuple[float, float, float, float]:
        """Pixel (x0, y0, x1, y1) the object covers when pasted centred at (cx, cy)."""
        x0, y0 = round(cx - self.through.shape[1] / 2), round(cy - self.through.shape[0] / 2)
        bx0, by0, bx1, by1 = self.body
        return (x0 + bx0, y0 + by0, x0 + bx1, y0 + by1)

    def paste(self, frame: np.ndarray, cx: float, cy: float) -> None:
        """Blend the sprite into `frame` (uint8 BGR, in place) centred at pixel (cx, cy)."""
        h, w = self.through.shape[:2]
        x0 = int(round(cx - w / 2))
        y0 = int(round(cy - h / 2))
        fx0, fy0 = max(x0, 0), max(y0, 0)
        fx1, fy1 = min(x0 + w, frame.shape[1]), min(y0 + h, frame.shape[0])
        if fx1 <= fx0 or fy1 <= fy0:
            return
        sx, sy = fx0 - x0, fy0 - y0
        sl = (slice(sy, sy + fy1 - fy0), slice(sx, sx + fx1 - fx0))
        region = frame[fy0:fy1, fx0:fx1]
        blended = region.astype(np.float32) * self.through[sl] + self.over[sl]
        region[...] = blended.astype(np.uint8)


def car_sprite(
    shape: str,
    colour: tuple[int, int, int],
    length_px: float,
    heading_deg: float,
    sun_offset: tuple[float, float],
) -> Sprite:
    """A car seen from above, front pointing along `heading_deg` (image x axis = 0, y down)."""
    spec = CAR_SHAPES[shape]
    length = length_px * float(spec["length"]) * SUPERSAMPLE  # type: ignore[arg-type]
    width = length_px * float(spec["width"]) * SUPERSAMPLE  # type: ignore[arg-type]
    size = int(math.ceil(math.hypot(length, width))) + 4 * SUPERSAMPLE
    colour_layer = np.zeros((size, size, 3), np.uint8)
    alpha = np.zeros((size, size), np.uint8)
    x_rear, y_top = size / 2 - length / 2, size / 2 - width / 2
    x_front, y_bottom = x_rear + length, y_top + width
    body = np.array(colour, np.float64)

    def shade(factor: float) -> tuple[int, int, int]:
        return tuple(int(c) for c in np.clip(body * factor + (1 - factor) * 30, 0, 255))  # type: ignore[return-value]

    radius = width * 0.22
    _rounded_rect(alpha, x_rear, y_top, x_front, y_bottom, radius, 255)
    _rounded_rect(colour_layer, x_rear, y_top, x_front, y_bottom, radius, shade(0.82))
    inset = width * 0.07
    _rounded_rect(
        colour_layer,
        x_rear + inset,
        y_top + inset,
        x_front - inset,
        y_bottom - inset,
        radius * 0.8,
        shade(1.0),
    )
    glass = (70, 58, 48)
    x = x_rear
    for part, fraction in spec["parts"]:  # type: ignore[attr-defined]
        span = length * float(fraction)
        top, bottom = y_top + width * 0.12, y_bottom - width * 0.12
        if part == "wind":
            pts = [
                (x, top),
                (x + span, top - width * 0.04),
                (x + span, bottom + width * 0.04),
                (x, bottom),
            ]
            _poly(colour_layer, pts, glass)
            _poly(
                colour_layer,
                [
                    (x + span * 0.15, top + width * 0.06),
                    (x + span * 0.7, top + width * 0.04),
                    (x + span * 0.5, top + width * 0.2),
                    (x + span * 0.1, top + width * 0.22),
                ],
                (120, 110, 104),
            )
            mirror = width * 0.09
            for y in (y_top - mirror * 0.7, y_bottom - mirror * 0.3):
                _rect(colour_layer, x + span * 0.6, y, x + span * 0.9, y + mirror, shade(0.8))
                _rect(alpha, x + span * 0.6, y, x + span * 0.9, y + mirror, 255)
        elif part == "rear":
            _poly(
                colour_layer,
                [
                    (x, top + width * 0.05),
                    (x + span, top),
                    (x + span, bottom),
                    (x, bottom - width * 0.05),
                ],
                glass,
            )
        elif part == "roof":
            _rect(colour_layer, x, top, x + span, bottom, shade(1.1))
            _rect(colour_layer, x, y_top + width * 0.06, x + span, top, glass)
            _rect(colour_layer, x, bottom, x + span, y_bottom - width * 0.06, glass)
            if shape in ("suv", "van"):
                for y in (top + width * 0.06, bottom - width * 0.06):
                    cv2.line(
                        colour_layer,
                        (int(x + span * 0.1), int(y)),
                        (int(x + span * 0.9), int(y)),
                        (60, 60, 60),
                        SUPERSAMPLE,
                    )
        elif part == "bed":
            _rect(colour_layer, x + width * 0.05, top, x + span, bottom, (50, 50, 52))
        elif part == "hood":
            cv2.line(
                colour_layer,
                (int(x + span * 0.1), int(size / 2)),
                (int(x + span * 0.9), int(size / 2)),
                shade(0.9),
                SUPERSAMPLE,
            )
        x += span
    lamp = width * 0.16
    for y in (y_top + width * 0.08, y_bottom - width * 0.08 - lamp):
        _rect(
            colour_layer,
            x_front - length * 0.03,
            y,
            x_front - length * 0.005,
            y + lamp,
            (214, 236, 244),
        )
        _rect(
            colour_layer,
            x_rear + length * 0.005,
            y,
            x_rear + length * 0.025,
            y + lamp,
            (34, 30, 170),
        )
    return _finish(colour_layer, alpha, heading_deg, sun_offset, shadow_strength=0.55)


def pedestrian_sprites(
    clothes: tuple[int, int, int],
    hair: tuple[int, int, int],
    shoulder_px: float,
    heading_deg: float,
    sun_offset: tuple[float, float],
) -> list[Sprite]:
    """Four walk-cycle frames of a person seen from above, walking along `heading_deg`."""
    s = shoulder_px * SUPERSAMPLE
    size = int(math.ceil(s * 2.2)) + 4 * SUPERSAMPLE
    centre = size / 2
    frames = []
    for phase in range(4):
        swing = (0.0, 1.0, 0.0, -1.0)[phase] * s * 0.35
        colour_layer = np.zeros((size, size, 3), np.uint8)
        alpha = np.zeros((size, size), np.uint8)
        for layer, value in ((colour_layer, None), (alpha, 255)):
            shoe = (30, 30, 34) if value is None else value
            _ellipse(layer, (centre + swing, centre - s * 0.16), (s * 0.17, s * 0.08), shoe)
            _ellipse(layer, (centre - swing, centre + s * 0.16), (s * 0.17, s * 0.08), shoe)
            arm = clothes if value is None else value
            _ellipse(layer, (centre - swing * 0.8, centre - s * 0.45), (s * 0.14, s * 0.08), arm)
            _ellipse(layer, (centre + swing * 0.8, centre + s * 0.45), (s * 0.14, s * 0.08), arm)
            _ellipse(layer, (centre, centre), (s * 0.2, s * 0.44), arm)
            head = hair if value is None else value
            _ellipse(layer, (centre + s * 0.03, centre), (s * 0.17, s * 0.15), head)
        frames.append(_finish(colour_layer, alpha, heading_deg, sun_offset, shadow_strength=0.4))
    return frames


def _finish(
    colour_layer: np.ndarray,
    alpha: np.ndarray,
    heading_deg: float,
    sun_offset: tuple[float, float],
    shadow_strength: float,
) -> Sprite:
    """Rotate to the heading, downsample, and add a blurred shadow offset away from the sun."""
    size = alpha.shape[0]
    # Positive angles in getRotationMatrix2D turn counter-clockwise on screen (y points down).
    turn = cv2.getRotationMatrix2D((size / 2, size / 2), -heading_deg, 1.0)
    colour_layer = cv2.warpAffine(colour_layer, turn, (size, size), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpAffine(alpha, turn, (size, size), flags=cv2.INTER_LINEAR)
    small = max(1, round(size / SUPERSAMPLE))
    colour = cv2.resize(colour_layer, (small, small), interpolation=cv2.INTER_AREA)
    opacity = cv2.resize(alpha, (small, small), interpolation=cv2.INTER_AREA)
    opacity = opacity.astype(np.float32) / 255.0
    dx, dy = sun_offset
    pad = int(math.ceil(max(abs(dx), abs(dy)))) + 4
    colour = cv2.copyMakeBorder(colour, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    opacity = cv2.copyMakeBorder(opacity, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    shadow = cv2.warpAffine(opacity, shift, opacity.shape[::-1])
    shadow = cv2.GaussianBlur(shadow, (0, 0), 1.5) * shadow_strength
    # Colour was drawn on black and filtered alongside the opacity, so it is already
    # premultiplied: a half-covered edge pixel holds half the colour.
    over = colour.astype(np.float32)
    through = ((1.0 - opacity) * (1.0 - shadow))[..., None].astype(np.float32)
    x, y, w, h = cv2.boundingRect((opacity > 0.5).astype(np.uint8))
    return Sprite(over=over, through=through, body=(x, y, x + w, y + h))


def _rounded_rect(
    img: np.ndarray, x0: float, y0: float, x1: float, y1: float, r: float, colour: object
) -> None:
    r = max(1.0, min(r, (x1 - x0) / 2, (y1 - y0) / 2))
    _rect(img, x0 + r, y0, x1 - r, y1, colour)
    _rect(img, x0, y0 + r, x1, y1 - r, colour)
    for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
        cv2.circle(
            img,
            (int(round(cx)), int(round(cy))),
            int(round(r)),
            colour,
            -1,  # type: ignore[arg-type]
            cv2.LINE_AA,
        )


def _rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float, colour: object) -> None:
    cv2.rectangle(
        img, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))), colour, -1
    )  # type: ignore[arg-type]


def _poly(img: np.ndarray, pts: list[tuple[float, float]], colour: object) -> None:
    cv2.fillPoly(img, [np.round(np.array(pts)).astype(np.int32)], colour, cv2.LINE_AA)  # type: ignore[arg-type]


def _ellipse(
    img: np.ndarray, centre: tuple[float, float], axes: tuple[float, float], colour: object
) -> None:
    cv2.ellipse(
        img,
        (int(round(centre[0])), int(round(centre[1]))),
        (max(1, int(round(axes[0]))), max(1, int(round(axes[1])))),
        0,
        0,
        360,
        colour,
        -1,
        cv2.LINE_AA,
    )  # type: ignore[arg-type]
