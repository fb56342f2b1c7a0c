"""Objects thrown or falling from a building (高空抛物), seen by a camera looking up a facade.

How it decides: each frame is downscaled to grey and compared with a running background
(corrected for overall brightness and contrast, so clouds, dusk and the greying of rain do
not count as motion). What differs by more than a few noise levels forms blobs, each pixel
judged against its own learned noise (a dark wall at night is quiet, so an unlit object a
few grey levels darker shows). When a frame is full of blobs (rain), thin lines at the
rain's common slant are taken out first. Small blobs on the facade are followed from frame
to frame, each new position expected where a falling body would be. Positions are turned
into heights in metres through the camera's floor lines, so the perspective of the
building does not bend the curve. A track is a fall when its
heights fit h(t) = h0 + v0·t - g·t²/2 closely, with g within `gravity_tolerance` of 9.81 m/s²,
and it has dropped at least `min_drop_m` over at least `min_track_points` frames. Then one
onset Detection is emitted, with the trajectory, the floor it was let go from (the fit with
g fixed, followed back to where the velocity was zero) and the fitted g; the clear follows
when the track ends.

Birds fly across rather than down, gliding ones sink at a steady speed; leaves and plastic
bags sink at a steady, slow speed; none of them accelerate at g. People on balconies and
windows lighting up stay where they are; a track that stood still is judged from its last
moment at rest, and must have fallen from about there. Rain streaks change every frame and
do not line up into a parabola.

Known limits:
- An object smaller than about a pixel at `process_width`, or with the wall's brightness,
  is not seen; in rain, one under two pixels across is taken out with the streaks, and one
  blurred into a streak along the rain's slant can be.
- A fall shorter than `min_drop_m` (from the first floors) cannot be told from a drop of a
  metre or two on a balcony, and is not reported.
- The floor estimate assumes the object falls along the facade plane: one that flies well
  out from the wall (a hard throw) looks lower or higher than it was.
- Two objects falling together, close side by side, are one alert.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import cv2
import numpy as np

from detectors.base import Box, Detection
from detectors.falling_object_tracks import GRAVITY, FloorScale, Track, fit_fall
from detectors.settings import check_settings, setting
from detectors.zones import parse_zones

ALERT_TYPE = "falling_object"
FACADE_ZONE = "facade"
# Share of the frames of a fall in which the object must have been seen (rain hides it in
# some; chains of rain streaks matched across gaps fill half or less).
_MIN_SEEN_SHARE = 0.6
# Sideways travel allowed per pixel of fall: a throw from a balcony carries the object a
# metre or two along the wall while it drops the 3 m or more needed to report it.
_MAX_SIDEWAYS_PER_DOWN = 2.0
# Least fall in the picture (px at process_width) before the curve is judged.
_MIN_DROP_PX = 6.0
# How far above or below the spot where a track stood still its fall may appear to start.
_MAX_RELEASE_GAP_M = 1.5
_NEIGHBOURS = np.ones((3, 3), np.uint8)


def _line_kernel(slant: float, length: int = 5) -> np.ndarray:
    """A one-pixel line `length` long, `slant` radians off the vertical."""
    kernel = np.zeros((length, length), np.uint8)
    centre, reach = length // 2, (length - 1) / 2
    dx, dy = reach * np.sin(slant), reach * np.cos(slant)
    start = (round(centre - dx), round(centre - dy))
    cv2.line(kernel, start, (round(centre + dx), round(centre + dy)), 1, 1)
    return kernel


# Rain falls within about 17° of the vertical, the same slant across the picture.
_RAIN_LINES = tuple(_line_kernel(slant) for slant in (-0.3, 0.0, 0.3))
_SQUARE_2 = np.ones((2, 2), np.uint8)
_SQUARE_4 = np.ones((4, 4), np.uint8)


def _without_rain_streaks(moving: np.ndarray) -> np.ndarray:
    """The moving-pixel mask without rain: thin lines at the frame's common slant.

    Rain streaks are one to three pixels wide and five or more long; a falling object seen
    in daylight is a compact blob. Pixels on a line of the slant that collects the most of
    them are dropped, unless they belong to something four pixels wide; what remains is
    opened with a 2x2 square, which clears the ends and crumbs of streaks and keeps
    anything two pixels across.
    """
    streaks = max(
        (cv2.morphologyEx(moving, cv2.MORPH_OPEN, line) for line in _RAIN_LINES),
        key=lambda opened: int(np.count_nonzero(opened)),
    )
    solid = cv2.dilate(cv2.morphologyEx(moving, cv2.MORPH_OPEN, _SQUARE_4), _NEIGHBOURS)
    rain = (streaks > 0) & (solid == 0)
    rest = np.where(rain, np.uint8(0), moving)
    return cv2.morphologyEx(rest, cv2.MORPH_OPEN, _SQUARE_2)


@dataclass(frozen=True)
class FallingObjectConfig:
    """Per-camera settings of the falling-object detector, as given in the device config."""

    floor_lines: tuple[Mapping[str, float], ...]
    facade: tuple[tuple[float, float], ...] | None = None  # normalised polygon; None = all
    process_width: int = setting(320, 64, 1920, "frames are downscaled to this width (px)")
    min_track_points: int = setting(
        4, 3, 50, "fewest frames a falling object must be seen in before it is reported"
    )
    min_drop_m: float = setting(
        3.0, 0.5, 100.0, "least height (m) an object must have fallen before it is reported"
    )
    gravity_tolerance: float = setting(
        0.3, 0.05, 0.9, "accepted relative error of the fitted g against 9.81 m/s²"
    )
    max_residual_m: float = setting(
        0.5, 0.05, 5.0, "largest RMS distance (m) of the track from its free-fall fit"
    )
    noise_factor: float = setting(
        4.0, 1.5, 20.0, "a pixel moves when it differs by this many noise levels"
    )
    min_contrast: float = setting(
        5.0, 2.0, 100.0, "least grey-level difference from the background that is motion"
    )
    max_blob_area: float = setting(
        0.004, 1e-4, 0.1, "largest moving blob followed, as a fraction of the frame"
    )
    max_blobs: int = setting(
        25, 1, 1000, "more blobs than this in a frame (rain): streaks are taken out, this many kept"
    )
    clear_after_s: float = setting(
        0.5, 0.05, 10.0, "seconds without a sighting after which a reported fall clears"
    )

    def __post_init__(self) -> None:
        check_settings(self)
        FloorScale(self.floor_lines)  # validates

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> FallingObjectConfig:
        """Build from a facade camera's device config; unknown keys are left alone."""
        if not isinstance(config, Mapping):
            raise ValueError(f"facade camera config: expected a mapping, got {config!r}")
        if "floor_lines" not in config:
            raise ValueError("floor_lines: required, a list of {floor, y} (normalised rows)")
        facade = None
        if "zones" in config:
            zones = parse_zones(config["zones"], field_name="zones")
            if FACADE_ZONE in zones:
                facade = zones[FACADE_ZONE].points
        names = {f.name for f in fields(cls)} - {"floor_lines", "facade"}
        settings = {k: v for k, v in config.items() if k in names}
        for name in ("process_width", "min_track_points", "max_blobs"):
            if isinstance(settings.get(name), float) and settings[name].is_integer():
                settings[name] = int(settings[name])
        lines = config["floor_lines"]
        if isinstance(lines, (str, bytes)) or not isinstance(lines, (list, tuple)):
            raise ValueError(f"floor_lines: expected a list of {{floor, y}}, got {lines!r}")
        return cls(floor_lines=tuple(lines), facade=facade, **settings)


class FallingObjectDetector:
    """Reports an object falling down the facade at the acceleration of gravity."""

    def __init__(self, config: FallingObjectConfig) -> None:
        self.config = config
        self._scale = FloorScale(config.floor_lines)
        self._background: np.ndarray | None = None
        self._variance: np.ndarray | None = None  # per pixel, of the difference where still
        self._zone_mask: np.ndarray | None = None
        self._tracks: list[Track] = []
        self._reported: list[Track] = []  # confirmed tracks not yet cleared
        self._past_releases: list[tuple[float, float]] = []  # (release time, x) of reports
        self._last_ts: float | None = None
        self._frame_interval: float | None = None  # seconds, shortest seen lately
        self._next_id = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FallingObjectDetector:
        return cls(FallingObjectConfig.from_mapping(config))

    def update(self, frame: np.ndarray, ts: float) -> list[Detection]:
        """Take one BGR frame with its frame time; return onsets and clears of falls."""
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim not in (2, 3):
            raise ValueError(f"frame must be a BGR uint8 array, got {type(frame).__name__}")
        if self._last_ts is not None and ts <= self._last_ts:
            return []
        if self._last_ts is not None:
            step = ts - self._last_ts
            previous = self._frame_interval
            # The camera's frame interval: the shortest step, forgetting slowly (dropped frames
            # make steps longer, a camera switched to a faster rate makes them shorter).
            self._frame_interval = step if previous is None else min(step, previous * 1.01)
        self._last_ts = ts
        grey = self._prepare(frame)
        if self._background is None or self._background.shape != grey.shape:
            self._start(grey)
            return []
        blobs = self._blobs(grey)
        self._follow(blobs, ts)
        return self._decide(ts)

    # ---- motion ---------------------------------------------------------------------------

    def _prepare(self, frame: np.ndarray) -> np.ndarray:
        if frame.ndim == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        h, w = frame.shape
        width = int(self.config.process_width)
        if w > width:
            # Bilinear: the thresholds and the evaluation figures were measured with it.
            size = (width, max(1, round(h * width / w)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)
        return cv2.GaussianBlur(frame, (3, 3), 0).astype(np.float32)

    def _start(self, grey: np.ndarray) -> None:
        h, w = grey.shape
        self._background = grey.copy()
        # Start from the noise a threshold of min_contrast allows; learned within seconds.
        start = (self.config.min_contrast / self.config.noise_factor) ** 2
        self._variance = np.full((h, w), start, np.float32)
        self._tracks = []
        if self.config.facade is None:
            self._zone_mask = np.full((h, w), True)
        else:
            points = np.round(np.asarray(self.config.facade) * [w - 1, h - 1]).astype(np.int32)
            mask = np.zeros((h, w), np.uint8)
            cv2.fillPoly(mask, [points], 255)
            # A little outside the outline too: balconies and sills stick out of the wall.
            mask = cv2.dilate(mask, np.ones((1, 2 * max(2, w // 80) + 1), np.uint8))
            self._zone_mask = mask > 0

    def _blobs(self, grey: np.ndarray) -> list[tuple[float, float, Box, int]]:
        """Moving blobs as (normalised x, normalised y, box, area in px)."""
        assert self._background is not None and self._zone_mask is not None
        assert self._variance is not None
        background = self._matched_background(grey)
        signed = grey - background
        difference = np.abs(signed)
        sample = difference[::4, ::4]
        noise = 1.4826 * float(np.median(sample))
        # Each pixel against its own noise: window edges and JPEG blocks flicker, a dark wall
        # at night is quiet enough to show an unlit object a few grey levels darker.
        floor = max(self.config.min_contrast, self.config.noise_factor * noise)
        threshold = cv2.max(cv2.sqrt(self._variance) * self.config.noise_factor, floor)
        moving = (difference > threshold) & self._zone_mask
        # Learn fast where nothing moves, slowly under things that stay (a lit window).
        rate = np.where(moving, np.float32(0.01), np.float32(0.15))
        self._background += rate * (grey - self._background)
        self._background = self._background.astype(np.float32, copy=False)
        still = (~moving).astype(np.uint8)
        cv2.accumulateWeighted(cv2.multiply(signed, signed), self._variance, 0.05, mask=still)

        h, w = grey.shape
        moving_u8 = moving.astype(np.uint8)
        count, _, stats, _ = cv2.connectedComponentsWithStats(
            cv2.dilate(moving_u8, _NEIGHBOURS), connectivity=8
        )
        if count - 1 > self.config.max_blobs:
            count, _, stats, _ = cv2.connectedComponentsWithStats(
                cv2.dilate(_without_rain_streaks(moving_u8), _NEIGHBOURS), connectivity=8
            )
        largest = self.config.max_blob_area * h * w
        found = []
        for x0, y0, bw, bh, area in stats[1:]:
            if area > largest or area < 4:
                continue
            found.append((x0, y0, bw, bh, area))
        if len(found) > self.config.max_blobs:
            found = sorted(found, key=lambda b: -b[4])[: self.config.max_blobs]
        blobs = []
        for x0, y0, bw, bh, area in found:
            # The object is at the bottom of its blob; above it is the blur of its path.
            centre_y = y0 + bh - min(bw, bh) / 2
            box = Box(x0 / w, y0 / h, bw / w, bh / h)
            blobs.append(((x0 + bw / 2) / w, centre_y / h, box, int(area)))
        return blobs

    def _matched_background(self, grey: np.ndarray) -> np.ndarray:
        """The background with the frame's overall brightness and contrast."""
        assert self._background is not None
        bg = self._background[::4, ::4]
        fr = grey[::4, ::4]
        b25, b50, b75 = np.percentile(bg, (25, 50, 75))
        f25, f50, f75 = np.percentile(fr, (25, 50, 75))
        gain = float(np.clip((f75 - f25) / max(b75 - b25, 1.0), 0.3, 3.0))
        return ((self._background - b50) * gain + f50).astype(np.float32)

    # ---- tracking -------------------------------------------------------------------------

    def _follow(self, blobs: list[tuple[float, float, Box, int]], ts: float) -> None:
        heights = [self._scale.height_at(y) for _, y, _, _ in blobs]
        pairs = []
        for ti, track in enumerate(self._tracks):
            for bi, (x, _, _, _) in enumerate(blobs):
                distance = track.gate(ts, x, heights[bi], GRAVITY)
                if distance is not None:
                    # Longer tracks first: a fall in progress keeps its blob.
                    pairs.append((distance - 0.1 * min(len(track.t), 5), ti, bi))
        used_tracks, used_blobs = set(), set()
        for _, ti, bi in sorted(pairs):
            if ti in used_tracks or bi in used_blobs:
                continue
            used_tracks.add(ti)
            used_blobs.add(bi)
            x, y, box, _ = blobs[bi]
            self._tracks[ti].add(ts, x, y, heights[bi], (box.x, box.y, box.w, box.h))
        for ti, track in enumerate(self._tracks):
            if ti not in used_tracks:
                track.misses += 1
        for bi, (x, y, box, _) in enumerate(blobs):
            if bi not in used_blobs:
                track = Track(self._next_id)
                self._next_id += 1
                track.add(ts, x, y, heights[bi], (box.x, box.y, box.w, box.h))
                self._tracks.append(track)
        for track in self._tracks:
            if len(track.t) > 80:  # something standing still; keep its recent past only
                for name in ("t", "x", "y", "h", "boxes"):
                    del getattr(track, name)[:-40]

    def _decide(self, ts: float) -> list[Detection]:
        found: list[Detection] = []
        for track in self._tracks:
            if not track.confirmed and track.misses == 0 and self._is_fall(track):
                track.confirmed = True
                found.append(self._onset(track, ts))
        ended = [
            t
            for t in self._tracks
            if t.misses > 0 and ts - t.t[-1] > (self.config.clear_after_s if t.confirmed else 0.3)
        ]
        for track in ended:
            self._tracks.remove(track)
            if track.confirmed:
                found.append(self._clear(track, ts))
        return found

    def _is_fall(self, whole: Track) -> bool:
        config = self.config
        track = whole.since_rest()
        if len(track.t) < config.min_track_points:
            return False
        drop = track.h[0] - track.h[-1]
        if drop < config.min_drop_m:
            return False
        steps = np.diff(track.h)
        if np.count_nonzero(steps > 0.3) > 1:  # never up, bar one jittery frame
            return False
        if self._frame_interval is not None:
            # A falling body is in view in (nearly) every frame of its fall; a chain of rain
            # streaks picked up here and there over a second is not one body.
            frames = (track.t[-1] - track.t[0]) / self._frame_interval + 1
            if len(track.t) < _MIN_SEEN_SHARE * frames:
                return False
            # And its last three sightings at most one frame apart: a track that has just
            # jumped a longer gap is as likely a leaf or a bird joined on to it.
            if track.t[-1] - track.t[-3] > 3.5 * self._frame_interval:
                return False
        # Something let go of falls mostly down; a bird gliding or diving crosses the picture.
        assert self._background is not None
        h, w = self._background.shape
        down = (track.y[-1] - track.y[0]) * h
        if down < _MIN_DROP_PX:  # near the top a pixel is half a metre: no curve to measure
            return False
        sideways = abs(track.x[-1] - track.x[0]) * w
        if sideways > _MAX_SIDEWAYS_PER_DOWN * down:
            return False
        fit = fit_fall(track)
        if abs(fit.g_estimate - GRAVITY) > config.gravity_tolerance * GRAVITY:
            return False
        if track is not whole and abs(fit.release_height_m - track.h[0]) > _MAX_RELEASE_GAP_M:
            # Something that stood still and then fell was let go from where it stood; a jump
            # from a still blob to a fast one is two things joined.
            return False
        if fit.rms_m > config.max_residual_m + 0.03 * drop:
            return False
        for release_t, x in self._past_releases:  # a second track of a fall already reported
            if abs(release_t - fit.release_t) < 0.6 and abs(x - track.x[0]) < 0.06:
                return False
        self._past_releases = [p for p in self._past_releases if track.t[-1] - p[0] < 30]
        self._past_releases.append((fit.release_t, track.x[0]))
        return True

    def _onset(self, whole: Track, ts: float) -> Detection:
        track = whole.since_rest()
        fit = fit_fall(track)
        g_error = abs(fit.g_estimate - GRAVITY) / (self.config.gravity_tolerance * GRAVITY)
        confidence = float(np.clip(1.0 - 0.5 * g_error, 0.3, 1.0))
        return Detection(
            type=ALERT_TYPE,
            ts=ts,
            confidence=round(confidence, 3),
            boxes=(Box(*track.boxes[-1]),),
            track_id=track.track_id,
            details={
                "trajectory": _trajectory(track),
                "floor": FloorScale.floor_at(fit.release_height_m),
                "release_height_m": round(fit.release_height_m, 2),
                "g_estimate": round(fit.g_estimate, 2),
            },
            evidence="clip",
        )

    def _clear(self, whole: Track, ts: float) -> Detection:
        track = whole.since_rest()
        fit = fit_fall(track)
        return Detection(
            type=ALERT_TYPE,
            ts=ts,
            confidence=1.0,
            boxes=(Box(*track.boxes[-1]),),
            track_id=track.track_id,
            cleared=True,
            details={"trajectory": _trajectory(track), "g_estimate": round(fit.g_estimate, 2)},
            evidence="clip",
        )


def _trajectory(track: Track) -> list[list[float]]:
    return [
        [round(t, 3), round(x, 4), round(y, 4)]
        for t, x, y in zip(track.t, track.x, track.y, strict=True)
    ]
