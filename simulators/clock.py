"""Scene time: simulated devices can play minutes of scene in seconds of wall time."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class SceneClock:
    """Scene seconds since start run `speed` times faster than the wall clock.

    Timestamps sent to GridWatch are start_epoch + scene seconds, so detectors measure
    scene durations (a 120 s dwell takes 6 s of wall time at speed 20).
    """

    speed: float = 1.0
    start_epoch: float = field(default_factory=time.time)
    _start_monotonic: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"speed must be positive, got {self.speed}")

    def scene_now(self) -> float:
        return (time.monotonic() - self._start_monotonic) * self.speed

    def epoch(self, scene_t: float) -> float:
        return self.start_epoch + scene_t

    def sleep_until(self, scene_t: float) -> None:
        wait = (scene_t - self.scene_now()) / self.speed
        if wait > 0:
            time.sleep(wait)
