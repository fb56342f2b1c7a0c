"""E-bike in the elevator car: an e-bike wheeled in raises one alert, cleared once it has left.

How it decides: the background model (detectors/background.py) learns the empty car and
marks what differs from it, brightness changes of the whole car taken out. Foreground inside
the car zone is closed into blobs; each blob big enough to hold a wheeled item is described
by its outline, silhouette, colours and shape and scored by a small classifier trained on
rendered clips (detectors/elevator_ebike_model.py). A blob is usually a person together with
what they push, so the classifier has learned e-bikes with people next to and in front of
them, and bicycles, strollers, wheelchairs, trolleys and people alone as what is not one.
A blob whose lowest part, where the wheels are, is drawn mostly in thin lines (spokes, thin
tubes) has its score lowered, down to 0: the classifier alone takes some bicycles for e-bikes.

The alert starts once an e-bike has been seen in most frames for `min_seconds`; a few missed
frames (someone stepping in front of it, a flicker of the lights) do not restart the count.
It also starts when the best blob's score, averaged over the last `mean_window_seconds`
(frames without a blob counting 0), reaches `min_mean_score`: an e-bike standing in the car
keeps a middling score for the whole ride, where a person or a trolley scores near zero.
It clears when for `clear_seconds` neither has an e-bike been seen nor does foreground still
cover most of where it stood, so a person hiding the bike does not end the event.

A site with its own object-detection model (ONNX, see detectors/onnx_objects.py) sets
`onnx_model`: whenever there is foreground in the car, the model's boxes of the classes in
`onnx_class_ids` scoring at least `onnx_min_score`, centred inside the car, take the place
of the built-in classifier; the timing rules above stay the same.

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

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np

from detectors.background import BackgroundModel
from detectors.base import Box, Detection
from detectors.elevator_ebike_config import CAR_ZONE, ElevatorEbikeConfig
from detectors.elevator_ebike_model import BlobClassifier, blob_features, spoke_share
from detectors.onnx_objects import OnnxObjectModel
from detectors.zones import Zone

ALERT_TYPE = "ebike_in_elevator"
_CLOSE = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
# Missed frames shorter than this do not interrupt an e-bike sighting.
_GAP_SECONDS = 1.0
# Share of frames in a sighting that must see the e-bike before the alert starts.
_HIT_SHARE = 0.6
# Share of a model's box that must be foreground (an e-bike's frame and wheels fill a third
# to a half of its box; a box that is all empty car is no e-bike).
_MODEL_BOX_FOREGROUND = 0.2
# Thin-line share of a blob's wheel band (detectors/elevator_ebike_model.spoke_share) from
# which its e-bike score is lowered, and at which it is 0. On tuning clips' blobs scored
# above 0.4, e-bikes had a median of 0.012 (a step-through with its thin stays up to 0.045),
# bicycles 0.06 (a tenth below 0.045).
_SPOKES_FROM = 0.045
_SPOKES_ALL = 0.065


@dataclass(frozen=True)
class Candidate:
    """One foreground blob that may be (or hold) an e-bike, at processing size."""

    box: Box
    mask: np.ndarray  # bool, whole processed frame
    features: np.ndarray
    spokes: float = 0.0  # share of its wheel band drawn in thin lines (see spoke_share)


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
        self._objects: OnnxObjectModel | None = None
        self._threshold = self.config.min_confidence
        if self.config.onnx_model is not None:
            self._objects = OnnxObjectModel(self.config.onnx_model, self.config.onnx_input_size)
            self._threshold = self.config.onnx_min_score
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
        self._recent_scores: deque[tuple[float, float]] = deque()  # (frame time, best score)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ElevatorEbikeDetector:
        return cls(ElevatorEbikeConfig.from_mapping(config))

    def update(self, frame: np.ndarray, ts: float) -> list[Detection]:
        """Take one BGR frame with its frame time; return an onset or a clear, or nothing.

        Frames whose time is not after the previous frame's are ignored.
        """
        if self._last_ts is not None and ts <= self._last_ts:
            return []
        if self._objects is not None:
            best, probability = self._model_sighting(frame, ts)
        else:
            candidates = self.candidates(frame, ts)
            best, probability = None, 0.0
            if candidates:
                scores = self._classifier.probability(np.stack([c.features for c in candidates]))
                scores *= [spoke_factor(c.spokes) for c in candidates]
                index = int(np.argmax(scores))
                best, probability = candidates[index], float(scores[index])
        if self._event is None:
            found = self._look(best, probability, ts)
            if not found:
                self._recent_scores.append((ts, probability))
            return found
        return self._watch(best, probability, ts)

    def candidates(self, frame: np.ndarray, ts: float) -> list[Candidate]:
        """Feed one frame to the background model; the foreground blobs in the car, described.

        `update` calls this; it is public so that training can see what the detector sees.
        """
        image, blobs = self._blobs(frame, ts)
        if not blobs:
            return []
        h, w = self._foreground.shape
        # Thin lines need the frame unblurred (the background model's picture is blurred).
        sharp = (
            frame
            if frame.shape[1] <= w
            else cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
        )
        found = []
        for blob, (x, y, bw, bh) in blobs:
            crop_mask = blob[y : y + bh, x : x + bw]
            features = blob_features(image[y : y + bh, x : x + bw], crop_mask, h * w)
            spokes = spoke_share(sharp[y : y + bh, x : x + bw], crop_mask)
            found.append(Candidate(Box(x / w, y / h, bw / w, bh / h), blob, features, spokes))
        return found

    def _blobs(
        self, frame: np.ndarray, ts: float
    ) -> tuple[np.ndarray, list[tuple[np.ndarray, tuple[int, int, int, int]]]]:
        """The lighting-normalised processed image, and the foreground blobs in the car big
        enough to hold a wheeled item: (bool mask, pixel box x, y, w, h)."""
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
        blobs = []
        for label in range(1, count):
            x, y, bw, bh, area = (int(v) for v in stats[label])
            if area >= min_pixels:
                blobs.append((labels == label, (x, y, bw, bh)))
        return image, blobs

    def _model_sighting(self, frame: np.ndarray, ts: float) -> tuple[Candidate | None, float]:
        """The site model's best e-bike box centred in the car, and its score. The model runs
        only when something stands in the car: an empty car costs no inference."""
        _, blobs = self._blobs(frame, ts)
        assert self._objects is not None and self._car_mask is not None
        if not blobs:
            return None, 0.0
        h, w = self._car_mask.shape
        wanted = set(self.config.onnx_class_ids)
        for found in self._objects.detect(frame, 0.7 * self._threshold):
            box = found.box
            centre_x = min(int((box.x + box.w / 2) * w), w - 1)
            centre_y = min(int((box.y + box.h / 2) * h), h - 1)
            if found.class_id not in wanted or not self._car_mask[centre_y, centre_x]:
                continue
            footprint = np.zeros((h, w), bool)
            top, left = int(box.y * h), int(box.x * w)
            footprint[
                top : max(int((box.y + box.h) * h), top + 1),
                left : max(int((box.x + box.w) * w), left + 1),
            ] = True
            # An e-bike wheeled in differs from the empty car: a box over what has always
            # been there (a poster, the handrail) is the model's mistake, not a new e-bike.
            covered = footprint & self._foreground
            if np.count_nonzero(covered) >= _MODEL_BOX_FOREGROUND * np.count_nonzero(footprint):
                return Candidate(box, covered, np.zeros(0, np.float32)), found.score
        return None, 0.0

    def _look(self, best: Candidate | None, probability: float, ts: float) -> list[Detection]:
        hit = best is not None and probability >= self._threshold
        if best is not None and self._steady_score(probability, ts):
            return self._start_event(best, probability, ts, ts)
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
        return self._start_event(best, probability, sighting.started, ts)

    def _steady_score(self, probability: float, ts: float) -> bool:
        """Whether the best score averaged over the last window (already full) is high."""
        window = self.config.mean_window_seconds
        scores = self._recent_scores
        while scores and scores[0][0] <= ts - window:
            scores.popleft()
        full = bool(scores) and scores[0][0] <= ts - 0.9 * window
        mean = (sum(s for _, s in scores) + probability) / (len(scores) + 1)
        return full and mean >= self.config.min_mean_score

    def _start_event(
        self, best: Candidate, probability: float, started: float, ts: float
    ) -> list[Detection]:
        self._sighting = None
        self._recent_scores.clear()
        event = self._event = _Event(
            self._next_track_id,
            best.box,
            round(probability, 3),
            best.mask,
            started=started,
            last_seen=ts,
        )
        self._next_track_id += 1
        return [self._detection(event, ts, cleared=False)]

    def _watch(self, best: Candidate | None, probability: float, ts: float) -> list[Detection]:
        event = self._event
        assert event is not None
        if best is not None and probability >= 0.7 * self._threshold:
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
                # which judged it: the built-in classifier or the site's own model file
                "model": "built-in" if self._objects is None else self._objects.path.name,
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


def spoke_factor(spokes: float) -> float:
    """How far a blob's e-bike score stands, given its share of thin lines in the wheel band:
    1 up to `_SPOKES_FROM`, falling to 0 at `_SPOKES_ALL`."""
    return float(np.clip((_SPOKES_ALL - spokes) / (_SPOKES_ALL - _SPOKES_FROM), 0.0, 1.0))


def _describe(frame: object) -> str:
    if isinstance(frame, np.ndarray):
        return f"array {frame.shape} of {frame.dtype}"
    return type(frame).__name__
