"""Evidence clips: each camera's last seconds kept as the JPEG bytes they arrived in, and the
clip around an alert collected from them until its post-event window closes.

Pure: frames (frame time + JPEG bytes) and detections in, finished clips out. Nothing here
decodes, encodes or writes; `ingest/evidence.py` turns a finished clip into a video file.

Why encoded frames: a decoded 1280×720 frame is 2.7 MB, its JPEG about 0.1 MB, so a camera's
pre-event buffer costs ~1.5 MB at 5 fps instead of ~28 MB, and the clip is only decoded once,
when it is written.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from detectors.base import Box, Detection

# A clip is never longer than this, whatever a trajectory asks for: the bound on what a
# pending clip may hold.
MAX_CLIP_SECONDS = 20.0
# Frame times are sums of float steps: "2 s before" must keep the frame 2.0000000001 s back.
TS_SLACK = 1e-6


@dataclass(frozen=True)
class ClipFrame:
    ts: float  # frame time, seconds
    jpeg: bytes


@dataclass(frozen=True)
class ClipWindow:
    """How much of a camera's feed goes into an alert's clip, and the memory it may use."""

    pre_seconds: float = 2.0
    post_seconds: float = 2.0
    buffer_max_bytes: int = 16_000_000  # per camera: pre-event ring + clips being collected
    # A camera that stops sending still gets its clip written, with what arrived, this long
    # (wall time) after its window should have closed.
    stale_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not 0 <= self.pre_seconds <= MAX_CLIP_SECONDS / 2:
            raise ValueError(
                f"clip pre_seconds must be 0..{MAX_CLIP_SECONDS / 2:g}, got {self.pre_seconds}"
            )
        if not 0 <= self.post_seconds <= MAX_CLIP_SECONDS / 2:
            raise ValueError(
                f"clip post_seconds must be 0..{MAX_CLIP_SECONDS / 2:g}, got {self.post_seconds}"
            )
        if self.buffer_max_bytes < 1_000_000:
            raise ValueError(f"clip buffer_max_bytes must be ≥ 1 MB, got {self.buffer_max_bytes}")


class FrameRing:
    """The last `seconds` of one camera's frames (never more than `max_bytes`), as JPEG."""

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._frames: deque[ClipFrame] = deque()
        self._bytes = 0

    def add(self, frame: ClipFrame) -> None:
        self._frames.append(frame)
        self._bytes += len(frame.jpeg)
        while self._frames and (
            self._frames[0].ts < frame.ts - self.seconds - TS_SLACK or self._bytes > self.max_bytes
        ):
            self._bytes -= len(self._frames.popleft().jpeg)

    def since(self, ts: float) -> list[ClipFrame]:
        return [f for f in self._frames if f.ts >= ts - TS_SLACK]

    def state_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._frames)


@dataclass
class PendingClip:
    """An alert's clip while its frames are still arriving."""

    alert_id: int
    device_id: str
    alert_type: str
    onset_ts: float
    start_ts: float
    end_ts: float
    boxes: tuple[Box, ...]
    trajectory: list[list[float]]  # [[t, x, y], …] normalised, from the detection's details
    max_bytes: int
    opened_at: float  # wall clock, for cameras that go quiet
    frames: list[ClipFrame] = field(default_factory=list)
    held_bytes: int = 0

    def add(self, frame: ClipFrame) -> None:
        if frame.ts < self.start_ts - TS_SLACK or self.done:
            return
        self.frames.append(frame)
        self.held_bytes += len(frame.jpeg)

    @property
    def done(self) -> bool:
        """The post-event window has closed, or the clip has used its memory."""
        closed = bool(self.frames) and self.frames[-1].ts >= self.end_ts - TS_SLACK
        return closed or self.held_bytes >= self.max_bytes

    def take_details(self, detection: Detection) -> None:
        """A later detection of the same event (e.g. the clear of a fall, with the whole
        trajectory) may lengthen the clip so that all of the trajectory is in it."""
        trajectory = _trajectory(detection.details)
        if len(trajectory) > len(self.trajectory):
            self.trajectory = trajectory
            last_t = trajectory[-1][0]
            self.end_ts = min(max(self.end_ts, last_t + 0.5), self.start_ts + MAX_CLIP_SECONDS)


class ClipRecorder:
    """Every camera's pre-event ring and the clips being collected; one per frame worker.

    `observe` every decoded frame before it goes to the detector; `start` when an alert that
    wants a clip is raised. Finished clips are returned by `observe` (and `flush`) for the
    caller to write, away from the detector's thread.
    """

    def __init__(
        self, window: ClipWindow | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window or ClipWindow()
        self._clock = clock
        self._rings: dict[str, FrameRing] = {}
        self._pending: list[PendingClip] = []

    def observe(self, device_id: str, ts: float, jpeg: bytes) -> list[PendingClip]:
        frame = ClipFrame(ts, jpeg)
        ring = self._rings.get(device_id)
        if ring is None:
            # Half the camera's budget for the ring, half for clips being collected.
            ring = FrameRing(self.window.pre_seconds, self.window.buffer_max_bytes // 2)
            self._rings[device_id] = ring
        ring.add(frame)
        for clip in self._pending:
            if clip.device_id == device_id:
                clip.add(frame)
        return self._take_finished()

    def start(self, alert_id: int, device_id: str, detection: Detection) -> None:
        """Begin the clip of an alert: the frames from `pre_seconds` before the detection
        (or from the start of its trajectory, when that is earlier and still held) on."""
        for clip in self._pending:
            if clip.alert_id == alert_id and clip.device_id == device_id:
                clip.take_details(detection)
                return
        trajectory = _trajectory(detection.details)
        start = detection.ts - self.window.pre_seconds
        if trajectory:
            start = min(start, trajectory[0][0] - 0.2)
        end = detection.ts + self.window.post_seconds
        clip = PendingClip(
            alert_id=alert_id,
            device_id=device_id,
            alert_type=detection.type,
            onset_ts=detection.ts,
            start_ts=start,
            end_ts=min(end, start + MAX_CLIP_SECONDS),
            boxes=detection.boxes,
            trajectory=trajectory,
            max_bytes=self.window.buffer_max_bytes // 2,
            opened_at=self._clock(),
        )
        ring = self._rings.get(device_id)
        for frame in ring.since(start) if ring else []:
            clip.add(frame)
        clip.take_details(detection)
        self._pending.append(clip)

    def update(self, alert_id: int, detection: Detection) -> None:
        """Give a clip still being collected what a later detection knows (its trajectory)."""
        for clip in self._pending:
            if clip.alert_id == alert_id:
                clip.take_details(detection)

    def flush(self) -> list[PendingClip]:
        """Every clip still being collected, with the frames it has (at shutdown)."""
        pending, self._pending = self._pending, []
        return [clip for clip in pending if clip.frames]

    def pending(self) -> int:
        return len(self._pending)

    def state_bytes(self, device_id: str) -> int:
        """Bytes this camera's frames hold here: its ring and its clips being collected."""
        ring = self._rings.get(device_id)
        collected = sum(c.held_bytes for c in self._pending if c.device_id == device_id)
        return (ring.state_bytes() if ring else 0) + collected

    def _take_finished(self) -> list[PendingClip]:
        now = self._clock()
        stale_after = self.window.post_seconds + self.window.stale_seconds
        finished = [c for c in self._pending if c.done or now - c.opened_at > stale_after]
        if finished:
            gone = {id(c) for c in finished}
            self._pending = [c for c in self._pending if id(c) not in gone]
        return [clip for clip in finished if clip.frames]


def _trajectory(details: Mapping[str, Any]) -> list[list[float]]:
    points = details.get("trajectory") or []
    return [[float(t), float(x), float(y)] for t, x, y in points]
