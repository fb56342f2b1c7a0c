"""A background model for fixed cameras: what is new in the picture, and since when it is still.

Frames are downscaled first, so the model costs the same for any camera resolution. Colour
is kept: a red car on grey asphalt can have the asphalt's brightness, but not its colour.

The background learns only where nothing is in front of it, so an object that stops (a
parked car) stays foreground for as long as it stands there instead of fading into the
background. Light changes that affect the whole picture (a cloud, dusk) are taken out by a
global gain: the median ratio of frame to background over background pixels. The
background itself is kept at the brightness it was learned at and compared with
gain x background, so the asphalt revealed when a car leaves at dusk still matches it.

For every pixel the model keeps the frame time since which it has been foreground and
unchanged from frame to frame. A person walking past a parked car resets only the pixels
they cover; the rest of the car keeps counting. A plain patch of a car that is still
rolling (a roof does not change as it moves) is recognised by the change all around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

_KERNEL3 = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class ModelFrame:
    """What the model made of one frame, at processing size."""

    image: np.ndarray  # float32 (h, w, 3), the frame downscaled and blurred
    foreground: np.ndarray  # bool (h, w), differs from gain x background
    gain: float  # brightness of this frame relative to the background


class BackgroundModel:
    """Selective, gain-compensated background with a per-pixel "still since" timer."""

    def __init__(
        self,
        *,
        process_width: int = 320,
        threshold: float = 18.0,
        change_threshold: float = 10.0,
        learn_seconds: float = 5.0,
    ) -> None:
        # Thresholds are levels (of the channel that differs most) at normal brightness; they
        # shrink with the gain, down to a floor above sensor noise, because a dark scene has
        # less contrast everywhere.
        self.process_width = process_width
        self.threshold = threshold
        self.change_threshold = change_threshold
        self.learn_seconds = learn_seconds
        self._seed: np.ndarray | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything; the next frame starts a new background."""
        self._background: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._previous_gain = 1.0
        self._foreground: np.ndarray | None = None
        self._still_since: np.ndarray | None = None
        self._ts = 0.0

    def seed(self, image: np.ndarray) -> None:
        """Use a picture of the empty scene as the initial background instead of frame one."""
        self._seed = image

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        """Downscale (never up) and blur a BGR (or grey) frame into float32 (h, w, 3)."""
        h, w = frame.shape[:2]
        if w > self.process_width:
            size = (self.process_width, max(1, round(h * self.process_width / w)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        return cv2.GaussianBlur(frame, (5, 5), 0).astype(np.float32)

    def update(self, frame: np.ndarray, ts: float) -> ModelFrame:
        """Take one frame; return its foreground and refresh the background and timers."""
        image = self.prepare(frame)
        if self._background is None or self._background.shape != image.shape:
            self._start(image, frame.shape[:2], ts)
            if self._seed is None:
                return ModelFrame(image, np.zeros(image.shape[:2], bool), 1.0)
        assert self._background is not None and self._still_since is not None
        gain = self._estimate_gain(image)
        foreground = largest_difference(image, self._background * gain) > max(
            6.0, self.threshold * gain
        )
        if self._previous is None:
            changed = np.zeros(foreground.shape, bool)
        else:
            carried = self._previous * (gain / self._previous_gain)
            changed = largest_difference(image, carried) > max(4.0, self.change_threshold * gain)
        still = _drop_moving_patches(foreground & ~changed, changed)
        self._still_since[~still] = ts

        # Learn only where nothing is in front of the background (with a margin around
        # foreground, whose blurred edges would otherwise leak in).
        clear = cv2.dilate(foreground.astype(np.uint8), _KERNEL3) == 0
        rate = 1.0 - math.exp(-max(ts - self._ts, 0.0) / self.learn_seconds)
        if rate > 0:
            cv2.accumulateWeighted(image / gain, self._background, rate, clear.astype(np.uint8))
        self._previous, self._previous_gain = image, gain
        self._foreground, self._ts = foreground, ts
        return ModelFrame(image, foreground, gain)

    def still_seconds(self, ts: float) -> np.ndarray:
        """Seconds each pixel has been foreground and unchanged (0 where it is background)."""
        assert self._still_since is not None and self._foreground is not None
        return np.where(self._foreground, ts - self._still_since, 0.0)

    def still_since(self, mask: np.ndarray) -> float:
        """Median frame time since which the pixels of `mask` have been still."""
        assert self._still_since is not None
        return float(np.median(self._still_since[mask]))

    def background_view(self, gain: float) -> np.ndarray:
        """The background as it should look at the given gain (float32 (h, w, 3))."""
        assert self._background is not None
        return self._background * gain

    def absorb(self, mask: np.ndarray) -> None:
        """Make the pixels of `mask` background now: their current look is the new normal."""
        assert self._background is not None and self._previous is not None
        self._background[mask] = self._previous[mask] / self._previous_gain
        if self._foreground is not None:
            self._foreground[mask] = False

    def _start(self, image: np.ndarray, frame_shape: tuple[int, ...], ts: float) -> None:
        self.reset()
        if self._seed is not None:
            seed = self._seed
            if seed.shape[:2] != frame_shape:
                h, w = frame_shape[:2]
                sh, sw = seed.shape[:2]
                if abs(sw / sh - w / h) > 0.02:
                    raise ValueError(
                        f"background image is {sw}x{sh} but frames are {w}x{h}: "
                        "the aspect ratios differ, so it cannot be the same view"
                    )
                seed = cv2.resize(seed, (w, h), interpolation=cv2.INTER_AREA)
            self._background = self.prepare(seed)
        else:
            self._background = image.copy()
            self._previous = image
        self._foreground = np.zeros(image.shape[:2], bool)
        self._still_since = np.full(image.shape[:2], ts, np.float64)
        self._ts = ts

    def _estimate_gain(self, image: np.ndarray) -> float:
        assert self._background is not None and self._foreground is not None
        # Every third pixel in each direction is plenty for a median and 9x cheaper.
        bg = _brightness(self._background[::3, ::3])
        usable = (bg > 12.0) & ~self._foreground[::3, ::3]
        if np.count_nonzero(usable) < 50:
            return self._previous_gain
        ratio = _brightness(image[::3, ::3])[usable] / bg[usable]
        return float(np.clip(np.median(ratio), 0.05, 20.0))


def _drop_moving_patches(still: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """Remove still patches that are mostly enclosed by change.

    The plain roof or bonnet of a car that is still rolling does not change from frame to
    frame, but the window and body edges around it do. A patch of a parked car is bordered
    mostly by background, even while a person walks across part of it.
    """
    patches = still.astype(np.uint8)
    count, labels = cv2.connectedComponents(patches, connectivity=4)
    if count <= 1:
        return still
    rim = (patches - cv2.erode(patches, _KERNEL3, borderValue=0)) > 0
    near_change = rim & (cv2.dilate(changed.astype(np.uint8), _KERNEL3) > 0)
    rim_pixels = np.bincount(labels[rim], minlength=count)
    rim_changed = np.bincount(labels[near_change], minlength=count)
    moving = rim_changed > 0.5 * np.maximum(rim_pixels, 1)
    moving[0] = False
    return still & ~moving[labels]


def _brightness(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2GRAY)


def largest_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pixel, the absolute difference of the channel that differs most.

    (cv2 per-channel maxima: numpy's reduction over a 3-long last axis is ~40x slower.)
    """
    blue, green, red = cv2.split(cv2.absdiff(a, b))
    return cv2.max(cv2.max(blue, green), red)
