"""Fire-lane occupancy: a vehicle standing in the lane longer than the dwell time.

How it decides: the background model (detectors/background.py) marks what differs from the
empty scene and, per pixel, since when it has stood still. When the pixels inside the lane
that have been still for at least `dwell_seconds` and belong to one foreground blob cover at
least `min_vehicle_area` of the frame, the lane is occupied: one onset Detection with the
blob's box. Cars and people passing through never stand still long enough, and a person
walking past a parked car only resets the pixels they covered, so the car's dwell goes on.
The event clears once the spot the vehicle stood on has been free for `clear_seconds`, so a
truck briefly hiding the car neither clears nor restarts anything.

Known limits:
- A car already parked when the camera starts becomes part of the background and is never
  reported. When it leaves, the empty lane it reveals is recognised as a "ghost" (the
  background, not the frame, has the car's outline) and learned, so it raises no alert.
- Light changes must be roughly uniform over the picture: a cloud shadow that stops over part
  of the lane for longer than the dwell time looks like an object.
- Anything that stays in the lane is reported (a skip, a pile of boxes), which for a fire lane
  is usually wanted; there is no object classifier yet.
- One event per lane at a time: a second car parking while the first is reported does not
  raise a second alert; if it is still there when the first clears, it raises the next one.
- A vehicle hidden completely for longer than `clear_seconds` (for example by a truck standing
  in front of it) restarts its dwell time once it is visible again.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import cv2
import numpy as np

from detectors.background import BackgroundModel, ModelFrame
from detectors.base import Box, Detection
from detectors.settings import check_settings, setting
from detectors.zones import Point, Zone, parse_zones

ALERT_TYPE = "fire_lane_occupied"
LANE_ZONE = "lane"
_KERNEL3 = np.ones((3, 3), np.uint8)
_KERNEL5 = np.ones((5, 5), np.uint8)


@dataclass(frozen=True, eq=False)
class FireLaneConfig:
    """Per-camera settings of the fire-lane detector, as given in the site's device config."""

    lane: tuple[Point, ...]
    dwell_seconds: float = setting(
        120.0, 0, 86_400, "how long a vehicle must stand in the lane before it is reported"
    )
    clear_seconds: float = setting(
        10.0, 0, 3_600, "how long the lane must be free before the report is cleared"
    )
    # A car seen over a lane by a camera covering it is 2-4% of the frame; a quarter of a
    # small car still counts, a person (about 0.1%) or a bicycle (about 0.2%) does not.
    min_vehicle_area: float = setting(
        0.008, 1e-5, 1.0, "smallest part of a vehicle inside the lane, as a fraction of the frame"
    )
    process_width: int = setting(
        320, 32, 1920, "frames are downscaled to this width (px) before processing"
    )
    background: np.ndarray | None = field(
        default=None, metadata={"description": "optional image of the empty scene"}
    )

    def __post_init__(self) -> None:
        check_settings(self)
        if self.background is not None:
            image = self.background
            if (
                not isinstance(image, np.ndarray)
                or image.dtype != np.uint8
                or image.ndim not in (2, 3)
            ):
                raise ValueError("background: expected a uint8 image array (BGR or grey)")
        lane_area = abs(cv2.contourArea(np.asarray(self.lane, np.float32)))
        if self.min_vehicle_area > lane_area:
            raise ValueError(
                f"min_vehicle_area: {self.min_vehicle_area} is larger than the lane zone "
                f"({lane_area:.4f} of the frame), so nothing could ever be reported"
            )

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> FireLaneConfig:
        """Build from a device config; a bad or misspelt field raises ValueError naming it.

        The device config also carries keys for other parts of the system (frame rate,
        resolution, the alarm it drives); those are left alone. A key that is not a setting
        here but nearly matches one is taken for a typo rather than silently ignored.
        """
        if not isinstance(config, Mapping):
            raise ValueError(f"fire lane config: expected a mapping, got {type(config).__name__}")
        known = sorted({f.name for f in fields(cls)} - {"lane"} | {"zones"})
        for key in config:
            if key not in known and (close := difflib.get_close_matches(str(key), known, 1, 0.8)):
                raise ValueError(f"{key}: not a fire lane setting; did you mean {close[0]}?")
        if "zones" not in config:
            raise ValueError("zones: required, with a 'lane' polygon: {'lane': [[x, y], ...]}")
        zones = parse_zones(config["zones"], field_name="zones")
        if LANE_ZONE not in zones:
            raise ValueError(f"zones.lane: required; zones given: {sorted(zones) or 'none'}")
        settings = {k: v for k, v in config.items() if k in known and k != "zones"}
        if (
            isinstance(settings.get("process_width"), float)
            and settings["process_width"].is_integer()
        ):
            settings["process_width"] = int(settings["process_width"])
        return cls(lane=zones[LANE_ZONE].points, **settings)


@dataclass
class _Occupancy:
    track_id: int
    footprint: np.ndarray  # bool mask at processing size: where the vehicle stood
    box: Box
    confidence: float
    still_since: float
    last_seen: float  # last frame time the footprint was still covered


class FireLaneDetector:
    """Reports a vehicle that stands in the fire lane for longer than the dwell time."""

    def __init__(self, config: FireLaneConfig) -> None:
        self.config = config
        self._lane = Zone(LANE_ZONE, config.lane)
        self._model = BackgroundModel(process_width=int(config.process_width))
        if config.background is not None:
            self._model.seed(config.background)
        self._lane_mask: np.ndarray | None = None
        self._min_pixels = 1
        self._occupancy: _Occupancy | None = None
        self._last_ts: float | None = None
        self._next_track_id = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FireLaneDetector:
        return cls(FireLaneConfig.from_mapping(config))

    def update(self, frame: np.ndarray, ts: float) -> list[Detection]:
        """Take one BGR frame with its frame time; return an onset or a clear, or nothing.

        Frames whose time is not after the previous frame's are ignored (duplicates or
        out-of-order deliveries).
        """
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3:
            raise ValueError(f"frame must be a BGR uint8 array (h, w, 3), got {_describe(frame)}")
        if self._last_ts is not None and ts <= self._last_ts:
            return []
        self._last_ts = ts
        seen = self._model.update(frame, ts)
        if self._lane_mask is None or self._lane_mask.shape != seen.foreground.shape:
            self._fit_to(seen.foreground.shape)
        if self._occupancy is None:
            return self._look_for_vehicle(seen, ts)
        return self._watch_vehicle(seen, ts)

    def _fit_to(self, shape: tuple[int, ...]) -> None:
        """Size the lane mask (and a reported vehicle's spot) to the processed frames; a
        camera that changes resolution restarts the background model at the new size."""
        h, w = shape
        self._lane_mask = self._lane.mask(w, h) > 0
        self._min_pixels = max(1, int(round(self.config.min_vehicle_area * h * w)))
        if self._occupancy is not None and self._occupancy.footprint.shape != shape:
            spot = self._occupancy.footprint.astype(np.uint8)
            spot = cv2.resize(spot, (w, h), interpolation=cv2.INTER_NEAREST)
            self._occupancy.footprint = spot > 0

    def _look_for_vehicle(self, seen: ModelFrame, ts: float) -> list[Detection]:
        assert self._lane_mask is not None
        old = self._model.still_seconds(ts) >= self.config.dwell_seconds
        old &= seen.foreground
        old_in_lane = old & self._lane_mask
        if np.count_nonzero(old_in_lane) < self._min_pixels:
            return []
        # Group the long-still pixels by the foreground blob they belong to: a person who
        # walked across a parked car leaves a stripe of younger pixels that splits the still
        # part in two, but the car is still one blob.
        blobs = _blob_labels(seen.foreground)
        count = int(blobs.max()) + 1
        per_blob = np.bincount(blobs[old_in_lane], minlength=count)
        per_blob[0] = 0
        for label in np.argsort(per_blob)[::-1]:
            if per_blob[label] < self._min_pixels:
                break
            vehicle = blobs == label
            if self._is_ghost(vehicle, seen):
                self._model.absorb(cv2.dilate(vehicle.astype(np.uint8), _KERNEL5) > 0)
                continue
            return [self._start_event(old & vehicle, vehicle, int(per_blob[label]), seen, ts)]
        return []

    def _start_event(
        self,
        region: np.ndarray,
        vehicle: np.ndarray,
        lane_pixels: int,
        seen: ModelFrame,
        ts: float,
    ) -> Detection:
        h, w = seen.foreground.shape
        x, y, bw, bh = cv2.boundingRect(vehicle.astype(np.uint8))
        box = Box(x / w, y / h, bw / w, bh / h)
        # Heuristic: confidence grows with the stationary area beyond the minimum.
        confidence = round(0.55 + 0.4 * min(1.0, lane_pixels / (3 * self._min_pixels)), 3)
        since = self._model.still_since(region)
        self._occupancy = _Occupancy(
            self._next_track_id, vehicle, box, confidence, since, last_seen=ts
        )
        self._next_track_id += 1
        return Detection(
            type=ALERT_TYPE,
            ts=ts,
            confidence=confidence,
            boxes=(box,),
            track_id=self._occupancy.track_id,
            details={
                "dwell_seconds": round(ts - since, 1),
                "zone": LANE_ZONE,
                "area_fraction": round(lane_pixels / (h * w), 4),
            },
            evidence="snapshot",
        )

    def _watch_vehicle(self, seen: ModelFrame, ts: float) -> list[Detection]:
        event = self._occupancy
        assert event is not None
        covered = np.count_nonzero(seen.foreground & event.footprint)
        # Something (the car, or whatever hides it) still covers a good part of its spot.
        if covered >= 0.3 * np.count_nonzero(event.footprint):
            event.last_seen = ts
            return []
        if ts - event.last_seen < self.config.clear_seconds:
            return []
        self._occupancy = None
        return [
            Detection(
                type=ALERT_TYPE,
                ts=ts,
                confidence=event.confidence,
                boxes=(event.box,),
                track_id=event.track_id,
                cleared=True,
                details={
                    "dwell_seconds": round(event.last_seen - event.still_since, 1),
                    "zone": LANE_ZONE,
                },
                evidence="none",
            )
        ]

    def _is_ghost(self, blob: np.ndarray, seen: ModelFrame) -> bool:
        """Whether a foreground blob is revealed background rather than a new object.

        A real object shows its outline in the current frame: across it, inside and outside
        look different, while the background there is plain lane. A hole left by something
        that was part of the background (a car parked before start-up that drove off) is the
        other way round. The outline is taken as the blob's convex hull, so it follows the
        object and not the markings that happen to differ most.
        """
        ys, xs = np.nonzero(blob)
        h, w = blob.shape
        y0, y1 = max(int(ys.min()) - 8, 0), min(int(ys.max()) + 9, h)
        x0, x1 = max(int(xs.min()) - 8, 0), min(int(xs.max()) + 9, w)
        crop = np.ascontiguousarray(blob[y0:y1, x0:x1], dtype=np.uint8)
        contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        shape = np.zeros_like(crop)
        cv2.fillConvexPoly(shape, cv2.convexHull(np.vstack(contours)), 1)
        now = _outline_contrast(seen.image[y0:y1, x0:x1], shape)
        before = _outline_contrast(self._model.background_view(seen.gain)[y0:y1, x0:x1], shape)
        return before > 1.3 * now + 2.0


def _blob_labels(foreground: np.ndarray) -> np.ndarray:
    """Connected foreground blobs, small gaps closed, as a label image (0 = background)."""
    closed = cv2.morphologyEx(foreground.astype(np.uint8), cv2.MORPH_CLOSE, _KERNEL5)
    return cv2.connectedComponents(closed, connectivity=8)[1]


def _outline_contrast(image: np.ndarray, shape: np.ndarray) -> float:
    """Mean colour difference between the inside and the outside along a shape's outline,
    each side averaged over a 9x9 neighbourhood (so texture crossing the outline cancels)."""
    inside = shape.astype(np.float32)
    outside = (cv2.dilate(shape, _KERNEL3) == 0).astype(np.float32)
    outline = (shape - cv2.erode(shape, _KERNEL3)) > 0
    window = (9, 9)
    n_in = cv2.boxFilter(inside, -1, window, normalize=False)
    n_out = cv2.boxFilter(outside, -1, window, normalize=False)
    sum_in = cv2.boxFilter(image * inside[..., None], -1, window, normalize=False)
    sum_out = cv2.boxFilter(image * outside[..., None], -1, window, normalize=False)
    valid = outline & (n_in > 0) & (n_out > 0)
    if not valid.any():
        return 0.0
    mean_in = sum_in[valid] / n_in[valid][:, None]
    mean_out = sum_out[valid] / n_out[valid][:, None]
    return float(np.abs(mean_in - mean_out).sum(axis=1).mean())


def _describe(frame: object) -> str:
    if isinstance(frame, np.ndarray):
        return f"array {frame.shape} of {frame.dtype}"
    return type(frame).__name__
