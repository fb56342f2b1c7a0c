"""Evidence files: a snapshot with the detection boxes drawn and a clip a browser plays, each
stored with its SHA-256 (in the `evidence` table, and in the alert row or its details).

Clips are WebM with VP8 video: of what the pip build of OpenCV can write, it is the format
Chromium and Firefox play. H.264 ('avc1') has no encoder in that build, and MPEG-4 part 2
('mp4v') is written but browsers do not play it; VP9 plays too but encodes ~6× slower.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import psycopg

from detectors.base import Box
from gridwatch import db
from ingest.clips import PendingClip

log = logging.getLogger(__name__)

BOX_COLOUR_BGR = (0, 0, 255)
TRAJECTORY_COLOUR_BGR = (0, 255, 255)
CLIP_MEDIA_TYPE = "video/webm"
CLIP_FOURCC = "VP80"


@dataclass(frozen=True)
class EvidenceFile:
    path: Path  # relative to the evidence root, so the data folder can move
    sha256: str
    size: int = 0


def draw_boxes(frame: np.ndarray, boxes: Sequence[Box], label: str) -> np.ndarray:
    out = frame.copy()
    height, width = out.shape[:2]
    thickness = max(2, width // 320)
    for box in boxes:
        x0, y0 = int(box.x * width), int(box.y * height)
        x1, y1 = int((box.x + box.w) * width), int((box.y + box.h) * height)
        cv2.rectangle(out, (x0, y0), (x1, y1), BOX_COLOUR_BGR, thickness)
        scale, weight = 0.4 * thickness, max(1, thickness - 1)
        (_, text_h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, weight)
        # Above the box; inside it when the box touches the top of the picture.
        y_text = y0 - 6 if y0 - 6 >= text_h else y0 + text_h + 6
        cv2.putText(
            out,
            label,
            (x0 + 2, y_text),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            BOX_COLOUR_BGR,
            weight,
            cv2.LINE_AA,
        )
    return out


def draw_trajectory(frame: np.ndarray, trajectory: Sequence[Sequence[float]], until: float) -> None:
    """Draw, in place, the trajectory points [t, x, y] seen up to frame time `until`."""
    height, width = frame.shape[:2]
    points = [(int(x * width), int(y * height)) for t, x, y in trajectory if t <= until + 1e-6]
    if len(points) >= 2:
        cv2.polylines(
            frame, [np.array(points, np.int32)], False, TRAJECTORY_COLOUR_BGR, 2, cv2.LINE_AA
        )
    for point in points:
        cv2.circle(frame, point, 3, TRAJECTORY_COLOUR_BGR, -1, cv2.LINE_AA)


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(data)
    os.replace(partial, target)  # readers never see half a file


def save_snapshot(
    root: Path, alert_id: int, frame: np.ndarray, boxes: Sequence[Box], label: str, name: str
) -> EvidenceFile:
    ok, encoded = cv2.imencode(
        ".jpg", draw_boxes(frame, boxes, label), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    if not ok:
        raise RuntimeError(f"could not encode the snapshot of alert {alert_id}")
    data = encoded.tobytes()
    relative = Path(str(alert_id)) / f"{name}.jpg"
    _write_atomically(root / relative, data)
    return EvidenceFile(relative, hashlib.sha256(data).hexdigest(), len(data))


def clip_fps(timestamps: Sequence[float]) -> float:
    """Frames per second that replays the clip at the speed it was filmed."""
    if len(timestamps) < 2 or timestamps[-1] <= timestamps[0]:
        return 5.0
    return float(np.clip((len(timestamps) - 1) / (timestamps[-1] - timestamps[0]), 1.0, 60.0))


def save_clip(root: Path, clip: PendingClip) -> EvidenceFile:
    """Decode the clip's JPEG frames, draw the boxes (from the onset on) and the trajectory
    (as far as it had got), and write them as a WebM file under root/alert_id/."""
    images = []
    for frame in clip.frames:
        image = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is not None:
            images.append((frame.ts, image))
    if not images:
        raise ValueError(f"clip of alert {clip.alert_id} has no decodable frame")
    height, width = images[0][1].shape[:2]
    relative = Path(str(clip.alert_id)) / f"clip-{int(clip.onset_ts * 1000)}.webm"
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    # OpenCV picks the container by extension, so the partial file keeps ".webm".
    partial = target.with_name(f".{target.stem}.part.webm")
    fps = clip_fps([ts for ts, _ in images])
    writer = cv2.VideoWriter(
        str(partial), cv2.VideoWriter_fourcc(*CLIP_FOURCC), fps, (width, height)
    )
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {CLIP_FOURCC} WebM here (clip of {clip.alert_id})")
    try:
        for ts, image in images:
            if image.shape[:2] != (height, width):  # a camera that changed resolution mid-clip
                image = cv2.resize(image, (width, height))
            if ts >= clip.onset_ts:
                image = draw_boxes(image, clip.boxes, clip.alert_type)
            draw_trajectory(image, clip.trajectory, ts)
            writer.write(image)
    finally:
        writer.release()
    data = partial.read_bytes()
    if not data:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"OpenCV wrote an empty clip for alert {clip.alert_id}")
    os.replace(partial, target)
    return EvidenceFile(relative, hashlib.sha256(data).hexdigest(), len(data))


def record_evidence(
    conn: psycopg.Connection,
    alert_id: int,
    kind: str,
    file: EvidenceFile,
    media_type: str,
    frame_ts: tuple[float, float] | None = None,
    frames: int = 1,
) -> None:
    """One evidence row per file (the alert keeps every clip and snapshot it ever had)."""
    first, last = frame_ts if frame_ts else (None, None)
    conn.execute(
        "INSERT INTO evidence (alert_id, kind, path, sha256, media_type, size_bytes,"
        " frame_ts_first, frame_ts_last, frames) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (alert_id, path) DO UPDATE SET sha256 = EXCLUDED.sha256,"
        " size_bytes = EXCLUDED.size_bytes, frames = EXCLUDED.frames",
        (
            alert_id,
            kind,
            file.path.as_posix(),
            file.sha256,
            media_type,
            file.size,
            first,
            last,
            frames,
        ),
    )


class ClipWriter:
    """Encodes and stores finished clips on a thread of its own, so a detector worker never
    waits for a video encoder; started on the first clip."""

    def __init__(self, database_url: str, root: Path) -> None:
        self._url = database_url
        self._root = root
        self._queue: queue.Queue[PendingClip | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.failed = 0

    def submit(self, clip: PendingClip) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="clip-writer", daemon=True)
            self._thread.start()
        self._queue.put(clip)

    def close(self, timeout_s: float = 60.0) -> None:
        """Write what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        with db.connection(self._url) as conn:
            while (clip := self._queue.get()) is not None:
                try:
                    self._store(conn, clip)
                    self.written += 1
                except (OSError, RuntimeError, ValueError, psycopg.Error):
                    # One clip that cannot be written must not stop the next ones.
                    self.failed += 1
                    log.exception("could not store the clip of alert %d", clip.alert_id)
                    conn.rollback()

    def _store(self, conn: psycopg.Connection, clip: PendingClip) -> None:
        file = save_clip(self._root, clip)
        record_evidence(
            conn,
            clip.alert_id,
            "clip",
            file,
            CLIP_MEDIA_TYPE,
            (clip.frames[0].ts, clip.frames[-1].ts),
            len(clip.frames),
        )
        conn.execute(
            "UPDATE alerts SET details = details || jsonb_build_object('clip',"
            " jsonb_build_object('path', %s::text, 'sha256', %s::text,"
            " 'media_type', %s::text, 'seconds', %s::float8)) WHERE id = %s",
            (
                file.path.as_posix(),
                file.sha256,
                CLIP_MEDIA_TYPE,
                round(clip.frames[-1].ts - clip.frames[0].ts, 2),
                clip.alert_id,
            ),
        )
        conn.commit()
        log.info("clip of alert %d: %s (%d frames)", clip.alert_id, file.path, len(clip.frames))
