"""E-bike in the elevator car: an e-bike wheeled in raises one alert, cleared once it has left.

How it decides: the background model (detectors/background.py) learns the empty car and
marks what differs from it, brightness changes of the whole car taken out. Foreground inside
the car zone is closed into blobs; each blob big enough to hold a wheeled item is described
by its outline, silhouette, colours and shape and scored by a small classifier trained on
rendered clips (detectors/elevator_ebike_model.py). A blob is usually a person together with
what they push, so the classifier has learned e-bikes with people next to and in front of
them, and bicycles, strollers, wheelchairs, trolleys and people alone as what is not one.

The alert starts once an e-bike has been seen in most frames for `min_seconds`; a few missed
frames (someone stepping in front of it, a flicker of the lights) do not restart the count.
It clears when for `clear_seconds` neither has an e-bike been seen nor does foreground still
cover most of where it stood, so a person hiding the bike does not end the event.

Known limits:
- Trained on the synthetic camera only. A real camera (other e-bike models, fisheye
  distortion, compression, people in winter coats) needs retraining on its own labelled
  pictures before its figures mean anything.
- An e-bike already in the car when the detector starts becomes part of the background and
  is not reported. Neither is one that stays completely hidden behind people.
- The doors opening show the landing, which is foreground for as long as they are open; it
  is scored like any blob, and an e-bike standing on the landing in view can be reported
  before it comes in. A `car` zone that leaves out the door opening prevents that.
- One event at a time: a second e-bike while the first is reported raises nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any

import cv2
import numpy as np

from detectors.background import BackgroundModel
from detectors.base import Box, Detection
from detectors.elevator_ebike_model import BlobClassifier, blob_features
from detectors.settings import check_settings, setting
from detectors.zones import Point, Zone, parse_zones

ALERT_TYPE = "ebike_in_elevator"
CAR_ZONE = "car"
WHOLE_FRAME: tuple[Point, ...] = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
_CLOSE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
# Missed frames shorter than this do not interrupt an e-bike sighting.
_GAP_SECONDS = 1.0
# Share of frames in a sighting that must see the e-bike before the alert starts.
_HIT_SHARE = 0.6


@dataclass(frozen=True, eq=False)
class ElevatorEbikeConfig:
    """Per-camera settings of the elevator e-bike detector."""

    car: tuple[Point, ...] = WHOLE_FRAME
    min_seconds: float = setting(
        2.0, 0, 600, "how long an e-bike must be seen in the car before it is reported"
    )
    clear_seconds: float = setting(
        5.0, 0, 3_600, "how long the e-bike must be gone before the report is cleared"
    )
    # Tuned on rendered clips: at 0.5 a bicycle seen from some angles passes for a few
    # seconds; e-bikes stay in the car long enough to be seen above 0.85 most of the time.
    min_confidence: float = setting(
        0.85, 0.01, 0.99, "classifier probability above which a blob counts as an e-bike"
    )
    # A person alone seen from the ceiling corner is about 2-4% of the frame, a person with
    # an e-bike 5-12%; a tenth of that is noise, a bag or a pet.
    min_blob_area: float = setting(
        0.01, 1e-4, 1.0, "smallest foreground blob considered, as a fraction of the frame"
    )
    process_width: int = setting(
        320, 64, 1920, "frames are downscaled to this width (px) before processing"
    )
    background: np.ndarray | None = field(
        default=None, metadata={"description": "optional image of the empty car"}
    )

    def __post_init__(self) -> None:
        check_settings(self)
        image = self.background
        if image is not None and (
            not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3)
        ):
            raise ValueError("background: expected a uint8 image array (BGR or grey)")

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> ElevatorEbikeConfig:
        """Build from a device config; keys meant for other parts of the system are ignored.

        `zones` is optional: a `car` polygon (normalised 0..1) limits where an e-bike is
        looked for; a single zone of another name is taken as the car; none = whole frame.
        """
        if not isinstance(config, Mapping):
            raise ValueError(f"elevator e-bike config: expected a mapping, got {config!r}")
        settings = {
            f.name: config[f.name] for f in fields(cls) if f.name != "car" and f.name in config
        }
        if (
            isinstance(settings.get("process_width"), float)
            and float(settings["process_width"]).is_integer()
        ):
            settings["process_width"] = int(settings["process_width"])
        if config.get("zones"):
            zones = parse_zones(config["zones"], field_name="zones")
            if CAR_ZONE in zones:
                settings["car"] = zones[CAR_ZONE].points
            elif len(zones) == 1:
                settings["car"] = next(iter(zones.values())).points
            else:
                raise ValueError(f"zones: expected a 'car' polygon; zones given: {sorted(zones)}")
        return cls(**settings)


@dataclass(frozen=True)
class Candidate:
    """One foreground blob that may be (or hold) an e-bike, at processing size."""

    box: Box
    mask: np.ndarray  # bool, whole processed frame
    features: np.ndarray


@dataclass
class _Sighting:
    started: float
    last_hit: float
    frames: int = 0
    hits: int = 0


@dataclass
class _Event:
    track_id: int
    box: Box
    confidence: float
    footprint: np.ndarray  # bool mask at processing size: where the e-bike was last seen
    started: float
    last_seen: float


@cache
def _classifier() -> BlobClassifier:
    return BlobClassifier.load()


class ElevatorEbikeDetector:
    """Reports an e-bike inside the elevator car; people and other wheeled things do not."""

    def __init__(self, config: ElevatorEbikeConfig | None = None) -> None:
        self.config = config or ElevatorEbikeConfig()
        self._classifier = _classifier()
        self._model = BackgroundModel(process_width=int(self.config.process_width))
        if self.config.background is not None:
            self._model.seed(self.config.background)
        self._car = Zone(CAR_ZONE, self.config.car)
        self._car_mask: np.ndarray | None = None
        self._foreground = np.zeros((1, 1), bool)
        self._sighting: _Sighting | None = None
        self._event: _Event | None = None
        self._last_ts: float | None = None
        self._next_track_id = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ElevatorEbikeDetector:
        return cls(ElevatorEbikeConfig.from_mapping(config))

    def update(self, frame: np.ndarray, ts: float) -> list[Detection]:
        """Take one BGR frame with its frame time; return an onset or a clear, or nothing.

        Frames whose time is not after the previous frame's are ignored.
        """
        if self._last_ts is not None and ts <= self._last_ts:
            return []
        candidates = self.candidates(frame, ts)
        best, probability = None, 0.0
        if candidates:
            scores = self._classifier.probability(np.stack([c.features for c in candidates]))
            index = int(np.argmax(scores))
            best, probability = candidates[index], float(scores[index])
        if self._event is None:
            return self._look(best, probability, ts)
        return self._watch(best, probability, ts)

    def candidates(self, frame: np.ndarray, ts: float) -> list[Candidate]:
        """Feed one frame to the background model; the foreground blobs in the car, described.

        `update` calls this; it is public so that training can see what the detector sees.
        """
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3:
            raise ValueError(f"frame must be a BGR uint8 array (h, w, 3), got {_describe(frame)}")
        self._last_ts = ts
        seen = self._model.update(frame, ts)
        h, w = seen.foreground.shape
        if self._car_mask is None or self._car_mask.shape != (h, w):
            self._car_mask = self._car.mask(w, h) > 0
            self._event = None if self._event is None else self._resized_event(h, w)
        self._foreground = seen.foreground & self._car_mask
        closed = cv2.morphologyEx(self._foreground.astype(np.uint8), cv2.MORPH_CLOSE, _CLOSE)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
        min_pixels = self.config.min_blob_area * h * w
        # Frame brightness is normalised so features do not depend on the lights.
        image = np.clip(seen.image / max(seen.gain, 0.05), 0, 255).astype(np.uint8)
        found = []
        for label in range(1, count):
            x, y, bw, bh, area = (int(v) for v in stats[label])
            if area < min_pixels:
                continue
            blob = labels == label
            crop_mask = blob[y : y + bh, x : x + bw]
            features = blob_features(image[y : y + bh, x : x + bw], crop_mask, h * w)
            found.append(Candidate(Box(x / w, y / h, bw / w, bh / h), blob, features))
        return found

    def _look(self, best: Candidate | None, probability: float, ts: float) -> list[Detection]:
        hit = best is not None and probability >= self.config.min_confidence
        sighting = self._sighting
        if sighting is not None and ts - sighting.last_hit > _GAP_SECONDS:
            sighting = self._sighting = None
        if sighting is None:
            if not hit:
                return []
            sighting = self._sighting = _Sighting(started=ts, last_hit=ts)
        sighting.frames += 1
        if hit:
            sighting.hits += 1
            sighting.last_hit = ts
        long_enough = ts - sighting.started >= self.config.min_seconds
        if not (hit and long_enough and sighting.hits >= _HIT_SHARE * sighting.frames):
            return []
        assert best is not None
        self._sighting = None
        event = self._event = _Event(
            self._next_track_id,
            best.box,
            round(probability, 3),
            best.mask,
            started=sighting.started,
            last_seen=ts,
        )
        self._next_track_id += 1
        return [self._detection(event, ts, cleared=False)]

    def _watch(self, best: Candidate | None, probability: float, ts: float) -> list[Detection]:
        event = self._event
        assert event is not None
        if best is not None and probability >= 0.7 * self.config.min_confidence:
            event.last_seen, event.footprint, event.box = ts, best.mask, best.box
            return []
        # Hidden rather than gone: something still covers most of where it stood.
        if np.count_nonzero(self._foreground & event.footprint) >= 0.5 * np.count_nonzero(
            event.footprint
        ):
            event.last_seen = ts
            return []
        if ts - event.last_seen < self.config.clear_seconds:
            return []
        self._event = None
        return [self._detection(event, ts, cleared=True)]

    def _detection(self, event: _Event, ts: float, *, cleared: bool) -> Detection:
        return Detection(
            type=ALERT_TYPE,
            ts=ts,
            confidence=event.confidence,
            boxes=(event.box,),
            track_id=event.track_id,
            cleared=cleared,
            details={
                "confidence": event.confidence,
                "box": [round(v, 4) for v in (event.box.x, event.box.y, event.box.w, event.box.h)],
                "seen_seconds": round((event.last_seen if cleared else ts) - event.started, 1),
            },
            evidence="none" if cleared else "snapshot",
        )

    def _resized_event(self, h: int, w: int) -> _Event | None:
        """A camera that changes resolution restarts the model; keep the event's footprint."""
        event = self._event
        if event is None:
            return None
        spot = cv2.resize(event.footprint.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        event.footprint = spot > 0
        return event


def _describe(frame: object) -> str:
    if isinstance(frame, np.ndarray):
        return f"array {frame.shape} of {frame.dtype}"
    return type(frame).__name__
