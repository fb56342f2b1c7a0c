"""JPEG frames decoded at the size their detector works at, not larger.

The detectors downscale every frame to a processing width (320 px by default) before they
look at it. libjpeg can decode straight to 1/2, 1/4 or 1/8 of the size by dropping DCT
coefficients, several times faster than a full decode followed by a resize. So a camera's
frames are decoded at the largest of those reductions that still leaves the detector at
least its processing width. A detector whose needs are not known this way (one running a
site's object-detection model on the frame, or none at all) gets the full frame.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Decoding flag per reduction factor, largest first.
_REDUCED = ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
            (2, cv2.IMREAD_REDUCED_COLOR_2))  # fmt: skip
# Start-of-frame markers (SOF0..SOF15 without DHT 0xC4, JPG 0xC8 and DAC 0xCC): they hold
# the picture's height and width.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def frame_width_needed(detector: object) -> int | None:
    """The narrowest frame the detector can work on unchanged, or None for full size.

    That is its `config.process_width`, unless it also runs an ONNX object model on the
    frame (the model's input may want more pixels than the processing width).
    """
    config = getattr(detector, "config", None)
    width = getattr(config, "process_width", None)
    if getattr(config, "onnx_model", None) is not None or not isinstance(width, int):
        return None
    return width


def jpeg_size(jpeg: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, or None when there is none to read."""
    if jpeg[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 9 <= len(jpeg):
        if jpeg[at] != 0xFF:
            return None
        marker = jpeg[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker in _SOF_MARKERS:
            height = int.from_bytes(jpeg[at + 5 : at + 7], "big")
            width = int.from_bytes(jpeg[at + 7 : at + 9], "big")
            return (width, height) if width and height else None
        if marker == 0xDA:  # start of scan: no frame header before the image data
            return None
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
    return None


def reduction_for(jpeg: bytes, width_needed: int | None) -> int:
    """The largest decoding reduction (1, 2, 4 or 8) that keeps at least `width_needed` px."""
    size = jpeg_size(jpeg) if width_needed is not None else None
    if size is None or width_needed is None:
        return 1
    for factor, _ in _REDUCED:
        if math.ceil(size[0] / factor) >= width_needed:
            return factor
    return 1


def decode_jpeg(jpeg: bytes, reduction: int = 1) -> np.ndarray | None:
    """A BGR uint8 image, 1/`reduction` of the JPEG's size; None when it is not decodable."""
    flag = dict(_REDUCED).get(reduction, cv2.IMREAD_COLOR)
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), flag)
