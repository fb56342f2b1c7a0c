"""Pure image logic: BGR frames and frame timestamps in, detections out.

Only numpy, OpenCV and the standard library are imported here: no MQTT, no database, no
settings object. The outer layers (ingest, evaluation) feed frames and route detections.
"""

from detectors.base import Box, Detection, Detector
from detectors.registry import create_detector

__all__ = ["Box", "Detection", "Detector", "create_detector"]
