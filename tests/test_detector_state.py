"""A camera's state stays small however long it runs: after minutes of busy 1280×720 frames,
its detector (background models, tracks) plus its evidence buffers (pre-event JPEG ring and
clips being collected) hold less than 50 MB, for each of the four detectors.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bench.detectors import KINDS, bench_camera, held_bytes
from detectors.registry import create_detector
from ingest.clips import ClipRecorder

LIMIT_BYTES = 50_000_000
SECONDS = 120.0  # minutes of frame time, with the camera's incident every half minute or so
FPS = 5.0  # the facade's 10 fps would double its run time and not its state
SAMPLE_EVERY_S = 15.0


def test_held_bytes_counts_arrays_bytes_and_containers() -> None:
    class State:
        def __init__(self) -> None:
            self.model = np.zeros((100, 100), np.float32)  # 40 kB
            self.view = self.model[:10]  # shares the model's memory: not counted twice
            self.frames = [b"x" * 50_000]

    size = held_bytes(State())
    assert 90_000 < size < 100_000


@pytest.mark.parametrize("kind", KINDS)
def test_a_camera_state_stays_under_50_mb_after_minutes_of_frames(kind: str) -> None:
    camera = bench_camera(kind, index=0, seconds=SECONDS)
    detector = create_detector(camera.device_kind, camera.config)
    assert detector is not None
    clips = ClipRecorder()
    samples: list[int] = []
    onsets = 0
    for k in range(int(SECONDS * FPS)):
        ts = k / FPS
        jpeg = cv2.imencode(".jpg", camera.scene.render(ts), [cv2.IMWRITE_JPEG_QUALITY, 85])[1]
        clips.observe("cam", ts, jpeg.tobytes())
        image = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
        for detection in detector.update(image, ts):
            if not detection.cleared:
                onsets += 1
                clips.start(onsets, "cam", detection)  # as if every onset wanted a clip
        if k % int(SAMPLE_EVERY_S * FPS) == 0 or clips.pending():
            samples.append(held_bytes(detector) + clips.state_bytes("cam"))
    assert onsets >= 1, f"the {kind} camera saw none of its incidents"
    largest = max(samples)
    print(f"{kind}: largest state {largest / 1e6:.1f} MB over {len(samples)} samples")
    assert largest < LIMIT_BYTES
    # Still small at the end: nothing grows with the minutes.
    assert samples[-1] < LIMIT_BYTES
