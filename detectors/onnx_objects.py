"""An object-detection model of the site's own, in ONNX, run by OpenCV's DNN module.

A site with a trained model can give its path in a camera's config; the detector that uses
it (the elevator e-bike detector) then takes the model's boxes instead of its built-in
classifier. The contract a model must follow:

Input: one picture, shape 1x3xHxW float32, RGB channel order, values 0..1 (pixel / 255), no
mean subtracted; the frame is resized to WxH (stretched, no letterbox), W and H given by the
`input_size` setting.

Output: one tensor of detection rows, shape Nx6 (or 1xNx6), each row
`[x1, y1, x2, y2, score, class]` with the corners normalised 0..1 to the picture's width and
height, `score` 0..1 and `class` the class id as a number. Rows below the score threshold
are dropped here, so a model may return all of its anchors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detectors.base import Box

ROW_VALUES = 6  # x1, y1, x2, y2, score, class


@dataclass(frozen=True)
class ObjectBox:
    """One box a model found: where (normalised 0..1), how sure and which class."""

    box: Box
    score: float
    class_id: int


class OnnxObjectModel:
    """An ONNX detection model loaded once per camera; `detect(frame)` gives its boxes."""

    def __init__(self, path: str | Path, input_size: Sequence[int] = (320, 320)) -> None:
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"onnx_model: {path} does not exist or is not a file")
        width, height = (int(v) for v in input_size)
        self.path, self.input_size = path, (width, height)
        try:
            self._net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as err:
            raise ValueError(
                f"onnx_model: OpenCV cannot load {path} as an ONNX model ({_first_line(str(err))})"
            ) from err
        # Run it once on a blank picture so a model with the wrong input or output shape
        # fails when the camera starts, not at its first e-bike.
        try:
            rows = self._rows(np.zeros((height, width, 3), np.uint8))
        except cv2.error as err:
            raise ValueError(
                f"onnx_model: {path} does not run on a 1x3x{height}x{width} picture "
                f"({_first_line(str(err))}); set input_size to the model's [width, height]"
            ) from err
        if rows is None:
            raise ValueError(
                f"onnx_model: {path} must output rows of {ROW_VALUES} values "
                "[x1, y1, x2, y2, score, class] (shape Nx6 or 1xNx6)"
            )

    def detect(self, frame: np.ndarray, min_score: float = 0.0) -> list[ObjectBox]:
        """Boxes of one BGR frame with a score of at least `min_score`, best first."""
        rows = self._rows(frame)
        assert rows is not None  # the shape was checked at load
        found = []
        for x1, y1, x2, y2, score, class_id in rows[rows[:, 4] >= min_score]:
            left, top = float(np.clip(min(x1, x2), 0, 1)), float(np.clip(min(y1, y2), 0, 1))
            right, bottom = float(np.clip(max(x1, x2), 0, 1)), float(np.clip(max(y1, y2), 0, 1))
            if right > left and bottom > top:
                box = Box(left, top, right - left, bottom - top)
                found.append(ObjectBox(box, float(score), int(round(float(class_id)))))
        return sorted(found, key=lambda found_box: -found_box.score)

    def _rows(self, frame: np.ndarray) -> np.ndarray | None:
        blob = cv2.dnn.blobFromImage(frame, 1 / 255.0, self.input_size, swapRB=True, crop=False)
        self._net.setInput(blob)
        output = np.asarray(self._net.forward(), np.float32)
        if output.ndim not in (2, 3) or output.shape[-1] != ROW_VALUES:
            return None
        return output.reshape(-1, ROW_VALUES)


def _first_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else message
