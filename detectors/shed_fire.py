"""Fire in an e-bike charging shed: a flickering flame, or smoke rising from a charging place.

How it decides, per frame, on a downscaled copy (the background model in
detectors/background.py marks what differs from the empty shed, with global light changes
taken out):

- Flame: pixels that are fire-coloured (bright red with clearly more green than blue, so
  orange to yellow) and new in the picture. Static flame-coloured things - an orange bike,
  yellow-and-black post stripes - are part of the background and never count. Each pixel
  keeps a short running average of "was fire-coloured" and of "was fire-coloured in this
  frame and the last and changed shade". A region that stays fire-coloured in one place
  while its pixels keep changing shade is a flame: a flame flickers inside, while an orange
  bike that is uncovered, passed by people or wheeled away changes only at its edges, from
  another colour to orange or back, and a lamp-lit or sunlit bike does not flicker. A third
  of the region must have been flame for `min_seconds`: a flame stays where it started.
- Smoke: cells (8x8 px at processing size) whose saturation and contrast, both relative to
  their brightness, have dropped well below a slowly learned reference of the same cell: smoke
  is a grey veil. Light that only scales the picture (a cloud, dusk) leaves those ratios
  alone; cells that brightened or darkened much more than the picture as a whole (sun
  patches, lamp glow) do not count, and a large part of the picture changing at once (the
  lamps switching on) becomes the new reference. The smoky area must be large, at least three
  cells tall and reach above the charging boxes: smoke rises and collects under the roof.

Either must hold for `min_seconds` before the onset; the event clears once neither has been
seen for `clear_seconds`. Red clothes and tail lights are red with green about equal to blue,
so they are not fire-coloured; sunlight patches are bright and unsaturated.

Known limits:
- A flame-coloured object that stands still in a new place and flickers (a flashing orange
  beacon) looks like a flame; one that stands still without flickering does not. A yellow
  scooter turned on the spot changes shade in place and was taken for a flame once in 100
  clips; a flame also grows, which is not tested.
- Smoke already there at start-up is not seen, and the reference learns everything in the
  end (over a few minutes), so smouldering that hardly changes for longer than that fades from
  view; a flame keeps being seen as long as it burns.
- Thin smoke over a plain grey wall changes little: a smoke-only fire is found once the
  smoke has reached the roof, typically 8-15 s after it starts, against about 3 s for a
  flame. Smoke is named to a socket only while its column still reaches down to it.
- The smoke test needs to know where "above the charging boxes" is: without socket_boxes the
  top half of the picture is taken, which suits a camera looking at the back wall.
- One event at a time per camera; a second fire while the first is reported is part of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import cv2
import numpy as np

from detectors.background import BackgroundModel, ModelFrame, largest_difference
from detectors.base import Box, Detection
from detectors.settings import check_settings, setting

ALERT_TYPE = "shed_fire"
CELL = 8  # px at processing size: smoke is judged per cell, it has no sharp edges
# Share of a flame region that must have been flame for `min_seconds` (a growing flame keeps
# about half of it; a slowly moved orange thing much less).
SETTLED_SHARE = 1 / 3
_KERNEL3 = np.ones((3, 3), np.uint8)
_KERNEL7 = np.ones((7, 7), np.uint8)


@dataclass(frozen=True)
class ShedFireConfig:
    """Per-camera settings of the charging-shed fire detector."""

    min_seconds: float = setting(
        2.5, 0, 60, "how long a flame or smoke must be seen before it is reported"
    )
    clear_seconds: float = setting(
        15.0, 0, 3_600, "how long no flame or smoke must be seen before the report clears"
    )
    # A new flame at a battery is about 25x10 px at 320 px width (0.3% of the frame).
    min_flame_area: float = setting(0.0006, 1e-5, 0.5, "smallest flame, as a fraction of the frame")
    # Flames measured 0.37-0.57, an uncovered or moved orange bike 0.05-0.20.
    min_flicker: float = setting(
        0.25,
        0,
        1,
        "share of a flame's pixels that must change shade from frame to frame while staying "
        "fire-coloured",
    )
    min_smoke_area: float = setting(
        0.02, 1e-4, 1.0, "smallest smoky area, as a fraction of the frame"
    )
    process_width: int = setting(
        320, 64, 1920, "frames are downscaled to this width (px) before processing"
    )
    socket_boxes: tuple[tuple[float, float, float, float], ...] = field(
        default=(),
        metadata={"description": "optional normalised [x, y, w, h] of each charging place"},
    )

    def __post_init__(self) -> None:
        check_settings(self)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> ShedFireConfig:
        """Build from a device config; keys that are not settings here are left alone."""
        if not isinstance(config, Mapping):
            raise ValueError(f"shed fire config: expected a mapping, got {type(config).__name__}")
        known = {f.name for f in fields(cls)}
        settings = {k: v for k, v in config.items() if k in known}
        if "socket_boxes" in settings:
            settings["socket_boxes"] = _parse_socket_boxes(settings["socket_boxes"])
        width = settings.get("process_width")
        if isinstance(width, float) and width.is_integer():
            settings["process_width"] = int(width)
        return cls(**settings)


def _parse_socket_boxes(value: Any) -> tuple[tuple[float, float, float, float], ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ValueError(f"socket_boxes: expected a list of [x, y, w, h], got {value!r}")
    boxes = []
    for i, box in enumerate(value):
        if (
            isinstance(box, (str, bytes))
            or not isinstance(box, Sequence)
            or len(box) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)
        ):
            raise ValueError(f"socket_boxes[{i}]: expected [x, y, w, h] numbers, got {box!r}")
        x, y, w, h = (float(v) for v in box)
        if not (0 <= x <= 1 and 0 <= y <= 1 and 0 < w <= 1 and 0 < h <= 1):
            raise ValueError(f"socket_boxes[{i}]: {box!r} is not a normalised box inside 0..1")
        boxes.append((x, y, w, h))
    return tuple(boxes)


@dataclass
class _Fire:
    track_id: int
    confidence: float
    box: Box
    kind: str
    socket: int | None
    last_seen: float


class ShedFireDetector:
    """Reports a flame or smoke at a charging place that lasts at least `min_seconds`."""

    def __init__(self, config: ShedFireConfig) -> None:
        self.config = config
        self._model = BackgroundModel(process_width=int(config.process_width))
        self._last_ts: float | None = None
        self._previous: np.ndarray | None = None
        self._fire_avg: np.ndarray | None = None  # running share of frames fire-coloured
        self._flicker_avg: np.ndarray | None = None  # ... fire-coloured and changing
        self._smoke_avg: np.ndarray | None = None  # per cell, running share of smoky frames
        self._flame_since: np.ndarray | None = None  # per pixel, since when in a flame region
        self._smoke_since: np.ndarray | None = None  # per cell, since when in a smoky region
        # per cell: saturation and contrast relative to brightness, and brightness, as usual
        self._smoke_reference: tuple[np.ndarray, ...] | None = None
        self._fire: _Fire | None = None
        self._next_track_id = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ShedFireDetector:
        return cls(ShedFireConfig.from_mapping(config))

    def update(self, frame: np.ndarray, ts: float) -> list[Detection]:
        """Take one BGR frame with its frame time; return an onset or a clear, or nothing.

        Frames whose time is not after the previous frame's are ignored.
        """
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3:
            raise ValueError(f"frame must be a BGR uint8 array (h, w, 3), got {_describe(frame)}")
        if self._last_ts is not None and ts <= self._last_ts:
            return []
        dt = 0.0 if self._last_ts is None else ts - self._last_ts
        self._last_ts = ts
        seen = self._model.update(frame, ts)
        if self._fire_avg is None or self._fire_avg.shape != seen.foreground.shape:
            self._start(seen.foreground.shape)
            self._previous = seen.image
            return []
        flame = self._flame_regions(seen, dt, ts)
        smoke = self._smoke_regions(seen, dt, ts)
        self._previous = seen.image
        found = self._report(flame, "flame") or self._report(smoke, "smoke")
        if self._fire is None:
            return [self._start_event(found, ts)] if found else []
        if found or flame[1] or smoke[1]:
            self._fire.last_seen = ts
            return []
        if ts - self._fire.last_seen < self.config.clear_seconds:
            return []
        return [self._end_event(ts)]

    def _start(self, shape: tuple[int, ...]) -> None:
        h, w = shape
        self._fire_avg = np.zeros(shape, np.float32)
        self._flicker_avg = np.zeros(shape, np.float32)
        self._flame_since = np.full(shape, math.inf)
        cells = (math.ceil(h / CELL), math.ceil(w / CELL))
        self._smoke_avg = np.zeros(cells, np.float32)
        self._smoke_since = np.full(cells, math.inf)
        self._smoke_reference = None

    def _flame_regions(
        self, seen: ModelFrame, dt: float, ts: float
    ) -> tuple[list[tuple[np.ndarray, float]], bool]:
        """Flame regions that have lasted `min_seconds`, and whether any flame is seen now."""
        assert self._fire_avg is not None and self._flicker_avg is not None
        assert self._flame_since is not None and self._previous is not None
        fiery, flickering = _fire_coloured(seen.image, self._previous, seen.foreground)
        rate = 1.0 - math.exp(-dt / 1.5)  # about the last 1.5 s of frames
        cv2.accumulateWeighted(fiery.astype(np.float32), self._fire_avg, rate)
        cv2.accumulateWeighted(flickering.astype(np.float32), self._flicker_avg, rate)
        steady = (self._fire_avg > 0.3).astype(np.uint8)
        if not steady.any():  # the usual case: nothing fire-coloured has lasted
            self._flame_since.fill(math.inf)
            return [], False
        steady = cv2.morphologyEx(steady, cv2.MORPH_CLOSE, _KERNEL7)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(steady, connectivity=8)
        h, w = steady.shape
        min_pixels = self.config.min_flame_area * h * w
        # Per region: summed share of frames fire-coloured, and fire-coloured and changing.
        fire = np.bincount(labels.ravel(), self._fire_avg.ravel(), minlength=count)
        flicker = np.bincount(labels.ravel(), self._flicker_avg.ravel(), minlength=count)
        good = (stats[:, cv2.CC_STAT_AREA] >= min_pixels) & (
            flicker >= self.config.min_flicker * fire
        )
        good[0] = False
        now = good[labels]
        self._flame_since = np.where(now, np.minimum(self._flame_since, ts), math.inf)
        lasting = []
        for label in np.nonzero(good)[0]:
            region = labels == label
            since = self._flame_since[region]
            # A flame stays where it started and grows from there. An orange bike wheeled
            # slowly away drags its region along: few of its pixels stay in it for long.
            settled = np.count_nonzero(since <= ts - self.config.min_seconds)
            if settled >= SETTLED_SHARE * since.size:
                age = ts - float(since.min())
                lasting.append((region, min(1.0, 0.6 + 0.1 * age)))
        return lasting, bool(now.any())

    def _smoke_regions(
        self, seen: ModelFrame, dt: float, ts: float
    ) -> tuple[list[tuple[np.ndarray, float]], bool]:
        """Smoky regions (at processing size) that have lasted `min_seconds`, and whether any
        smoke is seen now."""
        assert self._smoke_avg is not None and self._smoke_since is not None
        ch, cw = self._smoke_avg.shape
        now = _cell_look(seen.image, (cw, ch))
        if self._smoke_reference is None:
            self._smoke_reference = now
            return [], False
        ref_sat, ref_contrast, ref_light = self._smoke_reference
        now_sat, now_contrast, now_light = now
        lighter = now_light / ref_light
        # Light that scales the whole picture (a cloud, dusk) moves every cell alike.
        overall = float(np.median(lighter))
        paler = now_sat < 0.8 * ref_sat - 0.04
        flatter = now_contrast < 0.75 * ref_contrast - 0.01
        # Sun patches and lamp glow brighten a spot, a sun patch that leaves darkens it; a grey
        # veil of smoke changes the brightness of a wall far less.
        usual_light = (lighter > 0.75 * overall) & (lighter < 1.15 * overall)
        veiled = paler | flatter
        smoky = veiled & usual_light
        # Thick dark smoke darkens a lot; it keeps a reported fire going but does not start one.
        lingering = np.count_nonzero(veiled & (lighter < 1.15 * overall))
        still_smoky = lingering >= self.config.min_smoke_area * smoky.size
        # Smoke spreads over a few cells a frame. A large part of the picture changing look or
        # brightness at once is light switching (the lamps at dusk): take it as the new normal.
        sudden = np.count_nonzero(smoky & (self._smoke_avg < 0.05))
        unevenly_lit = np.count_nonzero(~usual_light)
        light_switched = sudden > 0.15 * smoky.size or unevenly_lit > 0.25 * smoky.size
        if light_switched and self._fire is None:
            self._smoke_reference = now
            self._smoke_avg[...] = 0.0
            return [], False
        # The reference is slow, so smoke that thickens over half a minute still stands out,
        # and it learns neither smoke nor what the background model sees in front of the wall
        # (a flame, a person). Everything is learned in the end, more slowly, so that what a
        # fire leaves behind (a scorched spot) does not look like smoke for ever.
        cells = (cw, ch)
        occupied = cv2.resize(
            seen.foreground.astype(np.float32), cells, interpolation=cv2.INTER_AREA
        )
        calm = (~smoky & (occupied < 0.2)).astype(np.uint8)
        learn = 1.0 - math.exp(-dt / 30.0)
        settle = 1.0 - math.exp(-dt / 120.0)
        for reference, value in zip(self._smoke_reference, now, strict=True):
            cv2.accumulateWeighted(value, reference, settle)
            cv2.accumulateWeighted(value, reference, learn, calm)
        rate = 1.0 - math.exp(-dt / 2.0)
        cv2.accumulateWeighted(smoky.astype(np.float32), self._smoke_avg, rate)
        steady = (self._smoke_avg > 0.5).astype(np.uint8)
        steady = cv2.morphologyEx(steady, cv2.MORPH_CLOSE, _KERNEL3)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(steady, connectivity=8)
        min_cells = self.config.min_smoke_area * ch * cw
        good = np.zeros(count, bool)
        # Smoke rises and collects under the roof: a smoky area counts only if it is at least
        # three cells tall and reaches a cell above the charging boxes (the top half of the picture
        # when their places are not configured). A bike taken away with its cable left hanging,
        # sun on the floor or the floor under the lamps at dusk stay low.
        ceiling = min((y for _, y, _, _ in self.config.socket_boxes), default=0.5) * ch
        for label in range(1, count):
            area = stats[label, cv2.CC_STAT_AREA]
            tall = stats[label, cv2.CC_STAT_HEIGHT] >= 3
            high = stats[label, cv2.CC_STAT_TOP] < ceiling - 1
            good[label] = area >= min_cells and tall and high
        now = good[labels]
        self._smoke_since = np.where(now, np.minimum(self._smoke_since, ts), math.inf)
        lasting = []
        h, w = seen.foreground.shape
        for label in np.nonzero(good)[0]:
            cells = (labels == label).astype(np.uint8)
            age = ts - float(self._smoke_since[cells > 0].min())
            if age >= self.config.min_seconds:
                region = cv2.resize(cells, (cw * CELL, ch * CELL), interpolation=cv2.INTER_NEAREST)
                lasting.append((region[:h, :w] > 0, min(1.0, 0.5 + 0.05 * age)))
        return lasting, bool(now.any()) or still_smoky

    def _report(
        self, regions: tuple[list[tuple[np.ndarray, float]], bool], kind: str
    ) -> tuple[str, np.ndarray, float] | None:
        lasting = regions[0]
        if not lasting:
            return None
        region, confidence = max(lasting, key=lambda r: int(np.count_nonzero(r[0])))
        return kind, region, confidence

    def _start_event(self, found: tuple[str, np.ndarray, float], ts: float) -> Detection:
        kind, region, confidence = found
        h, w = region.shape
        x, y, bw, bh = cv2.boundingRect(region.astype(np.uint8))
        box = Box(x / w, y / h, bw / w, bh / h)
        # A flame stands on the bike that burns; smoke is traced to a place only while its
        # column still reaches down to it (smoke under the roof alone is not).
        base = ((x + bw / 2) / w, (y + bh) / h)
        socket = self._socket_at(base)
        self._fire = _Fire(self._next_track_id, round(confidence, 3), box, kind, socket, ts)
        self._next_track_id += 1
        return Detection(
            type=ALERT_TYPE,
            ts=ts,
            confidence=self._fire.confidence,
            boxes=(box,),
            track_id=self._fire.track_id,
            details={"kind": kind, "socket": socket, "area_fraction": round(bw * bh / (h * w), 4)},
            evidence="clip",
        )

    def _end_event(self, ts: float) -> Detection:
        fire = self._fire
        assert fire is not None
        self._fire = None
        return Detection(
            type=ALERT_TYPE,
            ts=ts,
            confidence=fire.confidence,
            boxes=(fire.box,),
            track_id=fire.track_id,
            cleared=True,
            details={"kind": fire.kind, "socket": fire.socket},
            evidence="none",
        )

    def _socket_at(self, base: tuple[float, float]) -> int | None:
        """The charging place whose box holds the fire's base (normalised x, y), if any."""
        for index, (x, y, w, h) in enumerate(self.config.socket_boxes):
            if x <= base[0] <= x + w and y <= base[1] <= y + h:
                return index
        return None


def _fire_coloured(
    image: np.ndarray, previous: np.ndarray, foreground: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pixels new in the picture that are fire-coloured, and those of them that were
    fire-coloured in the previous frame too and changed by more than 20 levels: two bool masks.

    A flame flickers inside: its pixels stay fire-coloured while their shade jumps. An orange
    thing that is uncovered or covered (a person walking past it) or moved changes only where
    it meets what is around it, from another colour to orange or back.
    """
    if np.count_nonzero(foreground) > foreground.size // 4:
        coloured = _is_flame_coloured(image)
        flickering = coloured & _is_flame_coloured(previous)
        flickering &= largest_difference(image, previous) > 20
        return coloured & foreground, flickering & foreground
    # Only what is new in the picture can be a flame, usually a small part of the frame:
    # testing those pixels alone is several times cheaper.
    where = np.nonzero(foreground)
    pixels, before = image[where], previous[where]
    moved = np.abs(pixels - before)
    moved = np.maximum(np.maximum(moved[:, 0], moved[:, 1]), moved[:, 2])
    coloured = _is_flame_coloured(pixels)
    flickering = coloured & _is_flame_coloured(before) & (moved > 20)
    fiery, flickering_frame = np.zeros_like(foreground), np.zeros_like(foreground)
    fiery[where], flickering_frame[where] = coloured, flickering
    return fiery, flickering_frame


def _is_flame_coloured(pixels: np.ndarray) -> np.ndarray:
    """Orange to yellow: red high, green well above blue (BGR float pixels, any shape)."""
    blue, green, red = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    # Red clothes and tail lights keep green close to blue. Flames are bright by themselves,
    # so no scaling with the gain.
    return (red > 150) & (red >= green) & (green - blue > 35) & (red - blue > 90)


def _cell_look(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """Per cell: saturation and contrast, each relative to brightness, and brightness."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    blue, green, red = cv2.split(image)
    chroma = cv2.max(cv2.max(blue, green), red) - cv2.min(cv2.min(blue, green), red)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    edges = np.abs(gx) + np.abs(gy)
    h, w = grey.shape
    full = (size[0] * CELL, size[1] * CELL)
    light, sat, contrast = (
        cv2.resize(
            cv2.copyMakeBorder(a, 0, full[1] - h, 0, full[0] - w, cv2.BORDER_REPLICATE),
            size,
            interpolation=cv2.INTER_AREA,
        )
        for a in (grey, chroma, edges)
    )
    light = np.maximum(light, 8.0)
    return sat / light, contrast / light, light


def _describe(frame: object) -> str:
    if isinstance(frame, np.ndarray):
        return f"array {frame.shape} of {frame.dtype}"
    return type(frame).__name__
