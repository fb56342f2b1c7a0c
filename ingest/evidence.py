"""Evidence files: a snapshot with the detection boxes drawn, stored with its SHA-256."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detectors.base import Box

BOX_COLOUR_BGR = (0, 0, 255)


@dataclass(frozen=True)
class EvidenceFile:
    path: Path  # relative to the evidence root, so the data folder can move
    sha256: str


def draw_boxes(frame: np.ndarray, boxes: Sequence[Box], label: str) -> np.ndarray:
    out = frame.copy()
    height, width = out.shape[:2]
    thickness = max(2, width // 320)
    for box in boxes:
        x0, y0 = int(box.x * width), int(box.y * height)
        x1, y1 = int((box.x + box.w) * width), int((box.y + box.h) * height)
        cv2.rectangle(out, (x0, y0), (x1, y1), BOX_COLOUR_BGR, thickness)
        cv2.putText(
            out,
            label,
            (x0, max(y0 - 6, 12)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4 * thickness,
            BOX_COLOUR_BGR,
            max(1, thickness - 1),
            cv2.LINE_AA,
        )
    return out


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
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return EvidenceFile(relative, hashlib.sha256(data).hexdigest())
