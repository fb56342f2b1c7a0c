"""Per-camera settings of the elevator e-bike detector (detectors/elevator_ebike.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from detectors.settings import check_settings, setting
from detectors.zones import Point, parse_zones

CAR_ZONE = "car"
WHOLE_FRAME: tuple[Point, ...] = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


@dataclass(frozen=True, eq=False)
class ElevatorEbikeConfig:
    """Per-camera settings of the elevator e-bike detector."""

    car: tuple[Point, ...] = WHOLE_FRAME
    min_seconds: float = setting(
        2.0, 0, 600, "how long an e-bike must be seen in the car before it is reported"
    )
    clear_seconds: float = setting(
        5.0, 0, 3_600, "how long the e-bike must be gone before the report is cleared"
    )
    # Tuned on rendered clips: at 0.5 a bicycle seen from some angles passes for a few
    # seconds; e-bikes stay in the car long enough to be seen above 0.85 most of the time.
    min_confidence: float = setting(
        0.85, 0.01, 0.99, "classifier probability above which a blob counts as an e-bike"
    )
    # Tuned on rendered clips: an e-bike seen from behind or partly hidden in the car often
    # scores 0.4-0.7 frame after frame, seldom 0.85; people and trolleys score near 0. Was
    # 0.55 until bicycles' scores were lowered by their spoked wheels; 0.5 finds more e-bikes.
    mean_window_seconds: float = setting(
        6.0, 0.5, 600, "window (s) over which the best blob's score is also averaged"
    )
    min_mean_score: float = setting(
        0.5, 0.01, 0.99, "average score over the window that also reports an e-bike"
    )
    # A person alone seen from the ceiling corner is about 2-4% of the frame, a person with
    # an e-bike 5-12%; a tenth of that is noise, a bag or a pet.
    min_blob_area: float = setting(
        0.01, 1e-4, 1.0, "smallest foreground blob considered, as a fraction of the frame"
    )
    process_width: int = setting(
        320, 64, 1920, "frames are downscaled to this width (px) before processing"
    )
    background: np.ndarray | None = field(
        default=None, metadata={"description": "optional image of the empty car"}
    )
    onnx_model: str | None = field(
        default=None,
        metadata={"description": "path of an ONNX object-detection model to use instead"},
    )
    onnx_class_ids: tuple[int, ...] = field(
        default=(0,), metadata={"description": "the model's class ids that mean an e-bike"}
    )
    onnx_min_score: float = setting(
        0.5, 0.01, 0.99, "model score above which a box counts as an e-bike"
    )
    onnx_input_size: tuple[int, int] = field(
        default=(320, 320), metadata={"description": "the model's input [width, height] (px)"}
    )

    def __post_init__(self) -> None:
        check_settings(self)
        _check_onnx_settings(self)
        image = self.background
        if image is not None and (
            not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3)
        ):
            raise ValueError("background: expected a uint8 image array (BGR or grey)")

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> ElevatorEbikeConfig:
        """Build from a device config; keys meant for other parts of the system are ignored.

        `zones` is optional: a `car` polygon (normalised 0..1) limits where an e-bike is
        looked for; a single zone of another name is taken as the car; none = whole frame.
        """
        if not isinstance(config, Mapping):
            raise ValueError(f"elevator e-bike config: expected a mapping, got {config!r}")
        settings = {
            f.name: config[f.name] for f in fields(cls) if f.name != "car" and f.name in config
        }
        if (
            isinstance(settings.get("process_width"), float)
            and float(settings["process_width"]).is_integer()
        ):
            settings["process_width"] = int(settings["process_width"])
        for name in ("onnx_class_ids", "onnx_input_size"):  # JSON gives lists
            if isinstance(settings.get(name), list):
                settings[name] = tuple(settings[name])
        if config.get("zones"):
            zones = parse_zones(config["zones"], field_name="zones")
            if CAR_ZONE in zones:
                settings["car"] = zones[CAR_ZONE].points
            elif len(zones) == 1:
                settings["car"] = next(iter(zones.values())).points
            else:
                raise ValueError(f"zones: expected a 'car' polygon; zones given: {sorted(zones)}")
        return cls(**settings)


def _check_onnx_settings(config: ElevatorEbikeConfig) -> None:
    model, ids, size = config.onnx_model, config.onnx_class_ids, config.onnx_input_size
    if model is not None and (not isinstance(model, str) or not model):
        raise ValueError(f"onnx_model: expected the path of an .onnx file, got {model!r}")
    if not (
        isinstance(ids, tuple)
        and ids
        and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ids)
    ):
        raise ValueError(f"onnx_class_ids: expected a list of class ids (0, 1, ...), got {ids!r}")
    if not (
        isinstance(size, tuple)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 8 <= v <= 4096 for v in size)
    ):
        raise ValueError(f"onnx_input_size: expected [width, height] in pixels, got {size!r}")
