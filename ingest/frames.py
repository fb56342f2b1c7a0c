"""Camera frames to detectors: the same camera always goes to the same worker, in order.

Each camera has a short queue; when detectors lag, the oldest waiting frame is dropped
(the newest is what matters on a live feed) and the drop is counted.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from detectors.base import Detection, Detector
from detectors.jpeg import decode_jpeg, frame_width_needed, reduction_for
from detectors.registry import create_detector
from ingest.codecs import Frame
from ingest.devices import DeviceInfo

log = logging.getLogger(__name__)

DetectionHandler = Callable[[int, DeviceInfo, Detection, np.ndarray], None]
# Sees every decodable frame of a camera that has a detector, before the detector does
# (worker index, device, frame): the evidence clips' pre-event buffer.
FrameObserver = Callable[[int, DeviceInfo, Frame], None]


@dataclass
class FrameCounters:
    received: int = 0
    processed: int = 0
    dropped: int = 0
    undecodable: int = 0


class _Worker:
    def __init__(
        self,
        index: int,
        per_camera: int,
        handler: DetectionHandler,
        counters: FrameCounters,
        on_bad_jpeg: Callable[[DeviceInfo, Frame], None],
        on_dropped: Callable[[], None],
        on_frame: FrameObserver | None = None,
    ) -> None:
        self.index = index
        self._on_frame = on_frame
        self._on_dropped = on_dropped
        self._per_camera = per_camera
        self._handler = handler
        self._counters = counters
        self._on_bad_jpeg = on_bad_jpeg
        self._queues: dict[str, deque[tuple[DeviceInfo, Frame]]] = {}
        self._detectors: dict[str, Detector | None] = {}
        self._ready = threading.Condition()
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name=f"frames-{index}", daemon=True)

    def submit(self, device: DeviceInfo, frame: Frame) -> None:
        with self._ready:
            waiting = self._queues.setdefault(device.id, deque())
            if len(waiting) >= self._per_camera:
                waiting.popleft()
                self._counters.dropped += 1
                self._on_dropped()
            waiting.append((device, frame))
            self._ready.notify()

    def waiting(self) -> int:
        with self._ready:
            return sum(len(q) for q in self._queues.values())

    def stop(self) -> None:
        with self._ready:
            self._stopping = True
            self._ready.notify()

    def _next(self) -> tuple[DeviceInfo, Frame] | None:
        with self._ready:
            while True:
                for waiting in self._queues.values():
                    if waiting:
                        return waiting.popleft()
                if self._stopping:
                    return None
                self._ready.wait()

    def _run(self) -> None:
        while (item := self._next()) is not None:
            device, frame = item
            detector = self._detector(device)
            # Decoded no larger than the detector works at (detectors/jpeg.py).
            reduction = reduction_for(frame.jpeg, frame_width_needed(detector))
            image = decode_jpeg(frame.jpeg, reduction)
            if image is None:
                self._counters.undecodable += 1
                self._on_bad_jpeg(device, frame)
                continue
            self._counters.processed += 1
            if detector is None:
                continue
            if self._on_frame is not None:
                self._on_frame(self.index, device, frame)
            detections = detector.update(image, frame.ts)
            if detections and reduction > 1:
                # The evidence snapshot shows the frame at the camera's own resolution.
                full = decode_jpeg(frame.jpeg)
                image = image if full is None else full
            for detection in detections:
                try:
                    self._handler(self.index, device, detection, image)
                except Exception:  # one bad alert write must not stop the camera's feed
                    log.exception("could not apply %s from %s", detection.type, device.id)

    def _detector(self, device: DeviceInfo) -> Detector | None:
        if device.id not in self._detectors:
            try:
                self._detectors[device.id] = create_detector(device.kind, device.config)
            except ValueError as err:
                log.error("camera %s has no working detector: %s", device.id, err)
                self._detectors[device.id] = None
        return self._detectors[device.id]


class FrameRouter:
    def __init__(
        self,
        workers: int,
        per_camera: int,
        handler: DetectionHandler,
        on_bad_jpeg: Callable[[DeviceInfo, Frame], None],
        on_dropped: Callable[[], None] = lambda: None,
        on_frame: FrameObserver | None = None,
    ) -> None:
        self.counters = FrameCounters()
        self._workers = [
            _Worker(i, per_camera, handler, self.counters, on_bad_jpeg, on_dropped, on_frame)
            for i in range(workers)
        ]

    def start(self) -> None:
        for worker in self._workers:
            worker.thread.start()

    def stop(self) -> None:
        for worker in self._workers:
            worker.stop()
        for worker in self._workers:
            worker.thread.join(timeout=5)

    def waiting(self) -> int:
        """Frames queued for detectors, all cameras (bounded: per_camera each)."""
        return sum(worker.waiting() for worker in self._workers)

    def submit(self, device: DeviceInfo, frame: Frame) -> None:
        self.counters.received += 1
        # A stable hash (not Python's salted one) keeps a camera on the same worker.
        worker = self._workers[zlib.crc32(device.id.encode()) % len(self._workers)]
        worker.submit(device, frame)
