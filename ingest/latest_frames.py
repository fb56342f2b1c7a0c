"""Each camera's newest frame on disk, for the big screen's camera wall.

The JPEG as the camera sent it (no decode, no re-encode) is written at most every
`every_s` seconds per camera, by wall clock (this is about how fresh the wall looks, not
about the scene), and replaced atomically so a reader never sees half a file. The files sit
under the evidence folder (`latest/<device id>.jpg`), which the dashboard already serves.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

LATEST_DIR = "latest"
DEFAULT_EVERY_S = 2.0
# Device ids become file names; anything else (a path separator, "..") is not written.
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def latest_frame_path(evidence_root: Path, device_id: str) -> Path | None:
    """Where a camera's newest frame is kept, or None for an id unfit for a file name."""
    if not _SAFE_ID.match(device_id) or ".." in device_id:
        return None
    return evidence_root / LATEST_DIR / f"{device_id}.jpg"


class LatestFrames:
    """Writes a camera's frame when its last one is older than every_s. One per thread:
    a camera's frames all arrive on the same frame worker."""

    def __init__(
        self,
        evidence_root: Path,
        every_s: float = DEFAULT_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._root = evidence_root
        self._every_s = every_s
        self._clock = clock
        self._written_at: dict[str, float] = {}

    def offer(self, device_id: str, jpeg: bytes) -> bool:
        """Keep jpeg as the camera's newest frame if one is due; True if it was written."""
        now = self._clock()
        last = self._written_at.get(device_id)
        if last is not None and now - last < self._every_s:
            return False
        target = latest_frame_path(self._root, device_id)
        if target is None:
            return False
        self._written_at[device_id] = now
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            partial.write_bytes(jpeg)
            os.replace(partial, target)
        except OSError as err:  # a full disk must not stop the camera's detector
            log.warning("could not keep the newest frame of %s at %s: %s", device_id, target, err)
            return False
        return True
