"""Detector evaluation on a dataset in the manifest.jsonl format, however it was made."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from detectors.evaluate import ClipEntry, ManifestError, _frames, evaluate_dataset
from simulators.scenes.elevator import ElevatorScene
from simulators.scenes.fire_lane import FireLaneScene, encode_jpeg

LANE = [[0.05, 0.52], [0.95, 0.52], [0.95, 0.80], [0.05, 0.80]]
FPS = 2
SHORT = {"dwell_seconds": 20, "clear_seconds": 3}  # short clips, short dwell


def write_frames(folder: Path, scene: FireLaneScene, seconds: float) -> None:
    folder.mkdir(parents=True)
    for index in range(int(seconds * FPS)):
        # Unpadded numbers: frame_10 must come after frame_9.
        (folder / f"frame_{index}.jpg").write_bytes(encode_jpeg(scene.render(index / FPS)))


def write_video(path: Path, scene: FireLaneScene, seconds: float) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (640, 360))
    assert writer.isOpened()
    for index in range(int(seconds * FPS)):
        writer.write(scene.render(index / FPS))
    writer.release()


def parked(seed: int, arrive: float, stay: float) -> FireLaneScene:
    scene = FireLaneScene(LANE, seed=seed)
    scene.park_car(arrive, stay)
    scene.pass_pedestrian(1)
    return scene


def line(clip: str, positive: bool, detector: str = "fire_lane", **extra: object) -> str:
    item = {"clip": clip, "fps": FPS, "detector": detector, "positive": positive}
    item.update({"zones": {"lane": LANE}, "config": SHORT}, **extra)
    return json.dumps(item)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dataset")
    write_frames(root / "parked", parked(1, 2, 40), 55)
    traffic = FireLaneScene(LANE, seed=2)
    for k in range(4):
        traffic.pass_car(1 + 9 * k)
        traffic.pass_pedestrian(4 + 9 * k)
    write_frames(root / "traffic", traffic, 40)
    write_video(root / "parked.avi", parked(3, 2, 40), 55)
    write_video(root / "short_stop.avi", parked(4, 2, 8), 30)
    # Already parked when the clip starts: the detector cannot know (a documented limit).
    write_frames(root / "parked_from_start", parked(5, -20, 60), 30)
    still = parked(6, 0, 100)
    stopped = still.parked_intervals()[0][0]
    cv2.imwrite(str(root / "still_car.jpg"), still.render(stopped + 5))
    cv2.imwrite(str(root / "still_empty.jpg"), still.render(-50))
    cv2.imwrite(str(root / "empty_reference.jpg"), still.render(-100))
    (root / "elevator").mkdir()
    lines = [
        line("parked", True),
        line("traffic", False),
        line("parked.avi", True),
        line("short_stop.avi", False),
        line("parked_from_start", True),
        line("still_car.jpg", True, background="empty_reference.jpg"),
        line("still_empty.jpg", False, background="empty_reference.jpg"),
        line("still_car.jpg", True),  # no reference: cannot be judged
        "",
        line("elevator", True, detector="elevator_ebike"),
    ]
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def evaluated(dataset: Path) -> tuple[dict, list[str]]:
    messages: list[str] = []
    return evaluate_dataset(dataset, progress=messages.append), messages


def test_dataset_is_scored_per_detector(evaluated: tuple[dict, list[str]]) -> None:
    result, messages = evaluated

    fire_lane = result["detectors"]["fire_lane"]
    assert (fire_lane["tp"], fire_lane["fp"], fire_lane["fn"], fire_lane["tn"]) == (3, 0, 1, 3)
    assert fire_lane["clips"] == 7
    assert fire_lane["precision"] == 1.0
    assert fire_lane["recall"] == 0.75
    assert fire_lane["f1"] == pytest.approx(2 * 0.75 / 1.75, abs=1e-4)
    assert fire_lane["fps"] > 0  # reported; its speed is measured by bench.detectors, not here
    assert fire_lane["skipped"] == 1
    assert "background" in fire_lane["skip_reasons"][0]["reason"]
    assert fire_lane["skip_reasons"][0]["line"] == 8
    assert any("parked.avi" in m for m in messages)


def test_a_clip_that_cannot_be_read_is_skipped_with_its_reason_not_fatal(
    evaluated: tuple[dict, list[str]],
) -> None:
    elevator = evaluated[0]["detectors"]["elevator_ebike"]  # its clip is an empty folder

    assert elevator["clips"] == 0 and elevator["skipped"] == 1
    assert elevator["precision"] is None and elevator["fps"] is None
    assert elevator["skip_reasons"][0]["reason"] == "no frames could be read from elevator"


def test_result_is_one_json_line_in_the_agreed_shape(
    dataset: Path, evaluated: tuple[dict, list[str]]
) -> None:
    decoded = json.loads(json.dumps(evaluated[0]))
    assert decoded["eval"] == str(dataset)
    for summary in decoded["detectors"].values():
        assert {"clips", "precision", "recall", "f1", "fps", "skipped"} <= set(summary)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("{not json", "line 2"),
        (json.dumps({"clip": "x", "detector": "fire_lane"}), "positive"),
        (json.dumps({"clip": "x", "detector": "sniffer", "positive": True}), "sniffer"),
        (json.dumps({"clip": "x", "detector": "fire_lane", "positive": True, "fps": -1}), "fps"),
        (
            json.dumps(
                {
                    "clip": "x",
                    "detector": "fire_lane",
                    "positive": True,
                    "zones": {"lane": [[0, 0]]},
                }
            ),
            "lane",
        ),
    ],
)
def test_malformed_manifest_line_is_reported_with_its_number(
    tmp_path: Path, bad: str, reason: str
) -> None:
    good = line("clip", False)
    (tmp_path / "manifest.jsonl").write_text(good + "\n" + bad + "\n")

    with pytest.raises(ManifestError, match="line 2") as raised:
        evaluate_dataset(tmp_path)
    assert reason in str(raised.value)


def test_missing_manifest_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="manifest.jsonl"):
        evaluate_dataset(tmp_path)


def test_unreadable_clip_is_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    (tmp_path / "manifest.jsonl").write_text(
        line("missing", True) + "\n" + line("broken.mp4", False) + "\n"
    )

    fire_lane = evaluate_dataset(tmp_path)["detectors"]["fire_lane"]

    assert fire_lane["clips"] == 0 and fire_lane["skipped"] == 2
    reasons = " ".join(r["reason"] for r in fire_lane["skip_reasons"])
    assert "does not exist" in reasons and "broken.mp4" in reasons


def test_video_frame_rate_comes_from_the_file_when_the_manifest_has_none(tmp_path: Path) -> None:
    write_video(tmp_path / "clip.mp4", parked(7, 2, 40), 50)
    item = {"clip": "clip.mp4", "detector": "fire_lane", "positive": True, "config": SHORT}
    (tmp_path / "manifest.jsonl").write_text(json.dumps(item) + "\n")

    fire_lane = evaluate_dataset(tmp_path)["detectors"]["fire_lane"]

    # No zones: the whole frame is the lane.
    assert fire_lane["tp"] == 1


def test_frames_are_sorted_by_number(tmp_path: Path) -> None:
    frames = tmp_path / "f"
    frames.mkdir()
    for index in (10, 9, 1, 2):
        image = np.full((36, 64, 3), index * 20, np.uint8)
        cv2.imwrite(str(frames / f"{index}.png"), image)
    entry = ClipEntry(line=1, clip="f", path=frames, detector="fire_lane", positive=False, fps=1)
    levels = [int(frame[0, 0, 0]) for _, frame in _frames(entry, single=False)]
    assert levels == [20, 40, 180, 200]


@pytest.fixture(scope="module")
def elevator_pictures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Single pictures of one elevator camera: the empty car, an e-bike inside, a rider."""
    root = tmp_path_factory.mktemp("elevator_pictures")
    with_bike, with_rider = ElevatorScene(seed=21), ElevatorScene(seed=21)
    with_bike.carry_in_ebike(2.0, 15.0)
    with_rider.enter_person(2.0, 15.0)
    [(inside, _)] = with_bike.ebike_intervals()
    cv2.imwrite(str(root / "empty_car.png"), with_bike.render(0.0))
    cv2.imwrite(str(root / "ebike.jpg"), with_bike.render(inside + 4))
    cv2.imwrite(str(root / "rider.jpg"), with_rider.render(inside + 4))
    lines = [
        {"clip": "ebike.jpg", "detector": "elevator_ebike", "positive": True},
        {"clip": "rider.jpg", "detector": "elevator_ebike", "positive": False},
        {"clip": "ebike.jpg", "detector": "falling_object", "positive": False},
    ]
    for item in lines:
        item["background"] = "empty_car.png"
    lines[2]["config"] = {"floor_lines": [{"floor": 1, "y": 0.9}, {"floor": 2, "y": 0.8}]}
    (root / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    return root


def test_single_pictures_are_judged_on_presence_for_the_elevator(
    elevator_pictures: Path,
) -> None:
    result = evaluate_dataset(elevator_pictures)["detectors"]

    elevator = result["elevator_ebike"]
    assert (elevator["tp"], elevator["fp"], elevator["fn"], elevator["tn"]) == (1, 0, 0, 1)
    falling = result["falling_object"]  # a fall cannot be seen in one picture
    assert falling["clips"] == 0 and falling["skipped"] == 1
    assert "single image cannot be judged" in falling["skip_reasons"][0]["reason"]


def test_clips_judged_in_parallel_give_the_same_verdicts(
    dataset: Path, evaluated: tuple[dict, list[str]]
) -> None:
    messages: list[str] = []
    parallel = evaluate_dataset(dataset, progress=messages.append, workers=2)

    for name, summary in evaluated[0]["detectors"].items():
        same = {k: summary[k] for k in ("tp", "fp", "fn", "tn", "skipped", "skip_reasons")}
        assert {k: parallel["detectors"][name][k] for k in same} == same
    verdicts = [m.split(":")[0] for m in messages if m.startswith("[")]
    assert verdicts == sorted(verdicts, key=lambda m: int(m[1:].split("/")[0]))  # in order
