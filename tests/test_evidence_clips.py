"""Evidence clips without services: the pre-event buffer holds encoded frames for the last
seconds only, an alert's clip runs from ~2 s before to ~2 s after it, and the file written
is a WebM whose SHA-256 is the one returned.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from detectors.base import Box, Detection
from ingest.clips import ClipFrame, ClipRecorder, ClipWindow, FrameRing
from ingest.evidence import clip_fps, save_clip

FPS = 5.0


def jpeg(value: int, size: tuple[int, int] = (160, 120)) -> bytes:
    frame = np.full((size[1], size[0], 3), value % 256, np.uint8)
    cv2.putText(frame, str(value), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1, (255, 255, 255), 2)
    ok, data = cv2.imencode(".jpg", frame)
    assert ok
    return data.tobytes()


def onset(ts: float, **details: object) -> Detection:
    return Detection("falling_object", ts, 0.9, (Box(0.4, 0.4, 0.1, 0.1),), 1, False, details)


def test_the_pre_event_buffer_keeps_only_the_last_seconds_of_jpeg_bytes() -> None:
    ring = FrameRing(seconds=2.0, max_bytes=10_000_000)
    frames = [jpeg(k) for k in range(50)]
    for k, data in enumerate(frames):
        ring.add(ClipFrame(k / FPS, data))
    kept = ring.since(0.0)
    assert [f.ts for f in kept] == [k / FPS for k in range(39, 50)]  # 2 s at 5 fps, both ends
    assert all(isinstance(f.jpeg, bytes) and f.jpeg[:2] == b"\xff\xd8" for f in kept)
    assert ring.state_bytes() == sum(len(d) for d in frames[39:])


def test_the_pre_event_buffer_never_exceeds_its_byte_budget() -> None:
    recorder = ClipRecorder(ClipWindow(pre_seconds=10.0, buffer_max_bytes=1_000_000))
    big = b"\xff\xd8" + bytes(99_998)  # 100 kB "frames": 10 s at 5 fps would be 5 MB
    for k in range(100):
        recorder.observe("cam", k / FPS, big)
    assert recorder.state_bytes("cam") <= 500_000


def test_an_alert_clip_runs_from_two_seconds_before_to_two_seconds_after() -> None:
    recorder = ClipRecorder(ClipWindow(pre_seconds=2.0, post_seconds=2.0))
    finished = []
    for k in range(100):
        ts = k / FPS
        finished += recorder.observe("cam", ts, jpeg(k))
        if k == 50:  # the detector fires on frame 50 (t = 10 s)
            recorder.start(7, "cam", onset(ts))
        assert recorder.pending() == (1 if 50 <= k < 60 else 0)
    [clip] = finished
    assert clip.alert_id == 7
    assert [f.ts for f in clip.frames] == [k / FPS for k in range(40, 61)]


def test_a_clip_stretches_to_hold_the_whole_trajectory() -> None:
    recorder = ClipRecorder(ClipWindow(pre_seconds=2.0, post_seconds=1.0))
    finished = []
    for k in range(100):
        ts = k / FPS
        finished += recorder.observe("cam", ts, jpeg(k))
        if k == 50:  # confirmed 1.2 s after release
            recorder.start(3, "cam", onset(ts, trajectory=[[8.8, 0.5, 0.1], [10.0, 0.5, 0.3]]))
        if k == 54:  # the clear carries the trajectory down to the ground at t = 12.4 s
            clear_trajectory = [[8.8 + 0.2 * i, 0.5, 0.1 + 0.05 * i] for i in range(19)]
            recorder.update(3, onset(ts, trajectory=clear_trajectory))
    [clip] = finished
    first, last = clip.frames[0].ts, clip.frames[-1].ts
    assert first <= 8.8 and last >= 12.4
    assert len(clip.trajectory) == 19


def test_clips_of_two_cameras_do_not_mix() -> None:
    recorder = ClipRecorder()
    finished = []
    for k in range(60):
        finished += recorder.observe("a", k / FPS, jpeg(k))
        finished += recorder.observe("b", k / FPS, jpeg(200 + k))
        if k == 20:
            recorder.start(1, "a", onset(k / FPS))
    [clip] = finished
    assert {f.jpeg for f in clip.frames} <= {jpeg(k) for k in range(60)}


def test_bad_clip_settings_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="post_seconds"):
        ClipWindow(post_seconds=-1.0)
    with pytest.raises(ValueError, match="buffer_max_bytes"):
        ClipWindow(buffer_max_bytes=10)


def test_the_clip_file_is_webm_with_the_sha256_returned(tmp_path) -> None:
    recorder = ClipRecorder()
    finished = []
    for k in range(40):
        finished += recorder.observe("cam", k / FPS, jpeg(k * 5, (320, 240)))
        if k == 15:
            recorder.start(42, "cam", onset(k / FPS, trajectory=[[2.6, 0.5, 0.2], [3.0, 0.5, 0.4]]))
    [clip] = finished
    file = save_clip(tmp_path, clip)
    data = (tmp_path / file.path).read_bytes()
    assert data[:4] == b"\x1a\x45\xdf\xa3"  # EBML: the Matroska/WebM signature
    assert file.sha256 == hashlib.sha256(data).hexdigest() and file.size == len(data)
    assert file.path.parts[0] == "42" and file.path.suffix == ".webm"
    assert not list(tmp_path.rglob("*.part*")), "no partial file is left behind"
    video = cv2.VideoCapture(str(tmp_path / file.path))
    frames = 0
    while video.read()[0]:
        frames += 1
    assert frames == len(clip.frames) == 21
    assert clip_fps([f.ts for f in clip.frames]) == pytest.approx(FPS)
