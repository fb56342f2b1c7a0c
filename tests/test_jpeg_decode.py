"""Camera frames are decoded no larger than their detector works at, and an alert's snapshot
still shows the camera's full picture."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from detectors.base import Detection
from detectors.jpeg import decode_jpeg, frame_width_needed, jpeg_size, reduction_for
from detectors.registry import create_detector
from ingest.codecs import Frame
from ingest.devices import DeviceInfo
from ingest.frames import FrameRouter
from simulators.scenes.charging_shed import ChargingShedScene
from simulators.scenes.fire_lane import encode_jpeg


def _jpeg(width: int, height: int) -> bytes:
    picture = np.zeros((height, width, 3), np.uint8)
    cv2.rectangle(picture, (width // 4, height // 4), (width // 2, height // 2), (0, 128, 255), -1)
    return encode_jpeg(picture, 85)


def test_the_frame_size_is_read_from_the_jpeg_header() -> None:
    assert jpeg_size(_jpeg(1280, 720)) == (1280, 720)
    assert jpeg_size(_jpeg(641, 359)) == (641, 359)


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xd8", b"\x89PNG\r\n\x1a\n" + bytes(40), b"\xff\xd8\xff\xe0\x00\x10JFIF"],
)
def test_bytes_without_a_jpeg_frame_header_have_no_size(data: bytes) -> None:
    assert jpeg_size(data) is None
    assert reduction_for(data, 320) == 1  # left to the full decoder to refuse


@pytest.mark.parametrize(
    ("size", "needed", "factor", "decoded_width"),
    [
        ((1280, 720), 320, 4, 320),
        ((1280, 720), 640, 2, 640),
        ((1280, 720), 200, 4, 320),  # 1/8 would leave 160 px, fewer than needed
        ((1920, 1080), 320, 4, 480),
        ((1366, 768), 320, 4, 342),  # a reduced width rounds up
        ((640, 480), 320, 2, 320),
        ((320, 240), 320, 1, 320),
        ((1280, 720), 1920, 1, 1280),  # never more than the camera's own size
        ((1280, 720), None, 1, 1280),  # a detector whose needs are unknown
    ],
)
def test_frames_are_decoded_at_the_largest_reduction_that_keeps_the_width_needed(
    size: tuple[int, int], needed: int | None, factor: int, decoded_width: int
) -> None:
    jpeg = _jpeg(*size)
    assert reduction_for(jpeg, needed) == factor
    image = decode_jpeg(jpeg, factor)
    assert image is not None and image.shape[1] == decoded_width


def test_undecodable_bytes_decode_to_none_at_any_reduction() -> None:
    broken = _jpeg(1280, 720)[:300]
    assert decode_jpeg(broken, 1) is None
    assert decode_jpeg(broken, 4) is None


def test_a_detector_needs_its_processing_width_unless_it_runs_a_model_on_the_frame() -> None:
    shed = create_detector("shed_camera", {"process_width": 480})
    assert frame_width_needed(shed) == 480
    with_model = SimpleNamespace(config=SimpleNamespace(process_width=320, onnx_model="m.onnx"))
    assert frame_width_needed(with_model) is None
    assert frame_width_needed(None) is None


def test_a_shed_fire_is_found_on_reduced_frames_and_its_snapshot_is_full_size() -> None:
    scene = ChargingShedScene(seed=5, sockets=5, width=1280, height=720)
    scene.start_fire(2.0, socket=2)
    boxes = [list(scene.socket_box(s)) for s in range(5)]
    camera = DeviceInfo("shed-cam-1", "site", "grid", "shed_camera", "shed camera",
                        {"socket_boxes": boxes})  # fmt: skip
    found: list[tuple[Detection, tuple[int, ...]]] = []
    done = threading.Event()

    def on_detection(_worker: int, _device: DeviceInfo, detection: Detection, image: np.ndarray):
        found.append((detection, image.shape))
        done.set()

    router = FrameRouter(1, 100, on_detection, on_bad_jpeg=lambda *_: None)
    router.start()
    try:
        for seq in range(50):  # 10 s at 5 fps
            ts = seq / 5.0
            router.submit(camera, Frame(ts, seq, encode_jpeg(scene.render(ts), 85)))
        assert done.wait(timeout=60), "no shed fire reported within 10 s of scene time"
    finally:
        router.stop()
    detection, snapshot_shape = found[0]
    assert detection.details["socket"] == 2 and not detection.cleared
    assert snapshot_shape == (720, 1280, 3)
    assert router.counters.dropped == 0 and router.counters.undecodable == 0
