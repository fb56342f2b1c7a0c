"""A site's own ONNX model in the elevator e-bike detector: what a site that trained one relies on.

The model here is built and trained in this file, the way a site would train on its own
camera: footage of this elevator's camera with e-bikes, people and a stroller, labelled from
the scene's ground truth. It is a one-layer grid detector (every 8x8 cell of a 64x48 picture
scored by a small network, shared weights), written as an ONNX graph with the `onnx` package
and run by OpenCV's DNN module through `onnx_model` in the camera's config. It is tested on
new rides of the same camera, never on the frames it was trained on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from detectors import Detection
from detectors.elevator_ebike import ALERT_TYPE, ElevatorEbikeDetector
from simulators.scenes.elevator import ElevatorScene

FPS = 5.0
CAMERA_SEED = 321  # one elevator camera: its car, its people, its e-bikes
SIZE = (320, 240)  # the scene is rendered small: the model looks at 64x48 anyway
INPUT_W, INPUT_H, CELL, HIDDEN = 64, 48, 8, 16
EBIKE_CLASS = 3  # any id: the config says which of the model's classes are e-bikes


def camera() -> ElevatorScene:
    return ElevatorScene(seed=CAMERA_SEED, width=SIZE[0], height=SIZE[1])


def model_input(frame: np.ndarray) -> np.ndarray:
    """The picture as the detector hands it to the model (see detectors/onnx_objects.py)."""
    return cv2.dnn.blobFromImage(frame, 1 / 255.0, (INPUT_W, INPUT_H), swapRB=True)[0]


def cells_of(picture: np.ndarray) -> np.ndarray:
    """One row per 8x8 cell (row-major), as the strided convolution sees it."""
    rows, cols = INPUT_H // CELL, INPUT_W // CELL
    cells = picture.reshape(3, rows, CELL, cols, CELL).transpose(1, 3, 0, 2, 4)
    return cells.reshape(rows * cols, -1)


def cell_centres() -> np.ndarray:
    rows, cols = INPUT_H // CELL, INPUT_W // CELL
    ys, xs = np.mgrid[0:rows, 0:cols]
    return np.stack([(xs.ravel() + 0.5) / cols, (ys.ravel() + 0.5) / rows], axis=1)


def training_footage() -> tuple[np.ndarray, np.ndarray]:
    """Cells of every frame of a few rides, and their labels: e-bike where the cell's centre
    lies in the e-bike's box, outside everyone's box (the rider walks beside and in front of
    it), and the cell differs from the empty car (wall seen between the spokes is not
    e-bike). Cells in both an e-bike's and a person's box are left out: they are either."""
    scene, empty_car = camera(), camera()
    scene.carry_in_ebike(1.0, 10.0)
    scene.enter_person(28.0, 8.0)
    scene.enter_person(50.0, 8.0, carrying="stroller")
    scene.carry_in_ebike(72.0, 8.0)
    scene.enter_person(73.5, 6.0)
    centres = cell_centres()
    features, labels, known = [], [], []
    for index in range(int(92 * FPS)):
        ts = index / FPS
        cells = cells_of(model_input(scene.render(ts)))
        features.append(cells)
        changed = np.abs(cells - cells_of(model_input(empty_car.render(ts)))).mean(axis=1) > 0.06
        covered = {"ebike": np.zeros(len(centres), bool), "person": np.zeros(len(centres), bool)}
        for label, (x, y, w, h) in scene.objects_at(ts):
            if label in covered:
                covered[label] |= (
                    (centres[:, 0] >= x)
                    & (centres[:, 0] <= x + w)
                    & (centres[:, 1] >= y)
                    & (centres[:, 1] <= y + h)
                )
        labels.append(covered["ebike"] & changed & ~covered["person"])
        known.append(~(covered["ebike"] & covered["person"]))
    features_all, labels_all = np.concatenate(features), np.concatenate(labels)
    # Most cells are plain empty car; a quarter of them teach the model as much.
    sample = np.random.default_rng(1).random(len(labels_all)) < 0.25
    keep = np.concatenate(known) & (labels_all | sample)
    return features_all[keep], labels_all[keep]


def train(features: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """A one-hidden-layer network fitted by full-batch Adam on weighted cross-entropy."""
    rng = np.random.default_rng(0)
    mean = features.mean(axis=0)
    x = features - mean
    y = labels.astype(np.float32)
    weight = np.where(y > 0, 0.5 / y.mean(), 0.5 / (1 - y.mean())).astype(np.float32)
    params = {
        "w1": rng.normal(0, 0.1, (x.shape[1], HIDDEN)).astype(np.float32),
        "b1": np.zeros(HIDDEN, np.float32),
        "w2": rng.normal(0, 0.1, (HIDDEN, 1)).astype(np.float32),
        "b2": np.zeros(1, np.float32),
    }
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    for step in range(1, 151):
        hidden = np.maximum(x @ params["w1"] + params["b1"], 0)
        score = 1 / (1 + np.exp(-(hidden @ params["w2"] + params["b2"])[:, 0]))
        error = ((score - y) * weight / len(y))[:, None]
        back = (error @ params["w2"].T) * (hidden > 0)
        grads = {
            "w2": hidden.T @ error,
            "b2": error.sum(axis=0),
            "w1": x.T @ back,
            "b1": back.sum(axis=0),
        }
        for name, grad in grads.items():
            m, v = moments[name]
            m[:] = 0.9 * m + 0.1 * grad
            v[:] = 0.999 * v + 0.001 * grad**2
            m_hat, v_hat = m / (1 - 0.9**step), v / (1 - 0.999**step)
            params[name] -= 0.02 * m_hat / (np.sqrt(v_hat) + 1e-8)
    # The mean is folded into the first layer's bias: the graph takes the raw picture.
    params["b1"] = params["b1"] - mean @ params["w1"]
    return params


def save_grid_detector(params: dict[str, np.ndarray], path: Path) -> None:
    """Conv(8x8, stride 8) -> ReLU -> Conv(1x1) -> Sigmoid: one score per cell, written with
    each cell's box and the class id as rows [x1, y1, x2, y2, score, class]."""
    rows, cols = INPUT_H // CELL, INPUT_W // CELL
    count = rows * cols
    boxes = np.array(
        [
            [c / cols, r / rows, (c + 1) / cols, (r + 1) / rows]
            for r in range(rows)
            for c in range(cols)
        ],
        np.float32,
    )
    constants = {
        "w1": params["w1"].T.reshape(HIDDEN, 3, CELL, CELL),
        "b1": params["b1"],
        "w2": params["w2"].T.reshape(1, HIDDEN, 1, 1),
        "b2": params["b2"],
        "boxes": boxes,
        "class": np.full((count, 1), EBIKE_CLASS, np.float32),
        "shape": np.array([count, 1], np.int64),
    }
    nodes = [
        helper.make_node(
            "Conv", ["image", "w1", "b1"], ["h1"], kernel_shape=[CELL, CELL], strides=[CELL, CELL]
        ),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("Conv", ["h2", "w2", "b2"], ["logit"], kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["logit"], ["cell_score"]),
        helper.make_node("Reshape", ["cell_score", "shape"], ["score"]),
        helper.make_node("Concat", ["boxes", "score", "class"], ["detections"], axis=1),
    ]
    save_graph(nodes, constants, (1, 3, INPUT_H, INPUT_W), (count, 6), path)


def save_graph(
    nodes: list[Any],
    constants: dict[str, np.ndarray],
    input_shape: tuple[int, ...],
    output_shape: tuple[int, ...],
    path: Path,
) -> None:
    graph = helper.make_graph(
        nodes,
        "grid_detector",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, list(output_shape))],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


@pytest.fixture(scope="module")
def site_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "ebike_grid.onnx"
    save_grid_detector(train(*training_footage()), path)
    return path


def watch(scene: ElevatorScene, seconds: float, **settings: Any) -> list[Detection]:
    detector = ElevatorEbikeDetector.from_config(settings)
    found = []
    for index in range(int(seconds * FPS)):
        ts = index / FPS
        found += detector.update(scene.render(ts), ts)
    return found


def with_model(model: Path) -> dict[str, Any]:
    return {
        "onnx_model": str(model),
        "onnx_class_ids": [EBIKE_CLASS],
        "onnx_min_score": 0.5,
        "onnx_input_size": [INPUT_W, INPUT_H],
    }


def test_ebike_is_reported_through_the_sites_model(site_model: Path) -> None:
    scene = camera()
    scene.carry_in_ebike(3.0, 14.0)  # a ride the model never saw
    [(inside, leaving)] = scene.ebike_intervals()

    found = watch(scene, leaving + 12, **with_model(site_model))

    assert [d.cleared for d in found] == [False, True]
    onset, clear = found
    assert onset.type == ALERT_TYPE and onset.details["model"] == site_model.name
    assert inside - 2.0 <= onset.ts <= inside + 5.0
    assert leaving < clear.ts <= leaving + 15.0
    assert 0.5 <= onset.confidence <= 1.0


def test_people_are_not_reported_through_the_sites_model(site_model: Path) -> None:
    """(This little model is not good enough for strollers; a site's real one must be.)"""
    scene = camera()
    scene.enter_person(2.0, 14.0)
    scene.enter_person(3.0, 12.0)

    assert watch(scene, 30.0, **with_model(site_model)) == []


def test_a_model_that_sees_no_ebike_reports_none(tmp_path: Path) -> None:
    """The model decides, not the built-in classifier: a model that never finds anything
    keeps the detector silent on a real e-bike ride."""
    path = tmp_path / "blind.onnx"
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Reshape", ["nothing", "one"], ["flat"]),
        helper.make_node("Concat", ["box", "flat", "flat"], ["row"], axis=0),
        helper.make_node("Reshape", ["row", "shape"], ["detections"]),
    ]
    constants = {
        "zero": np.zeros(1, np.float32),
        "one": np.array([1], np.int64),
        "box": np.array([0.1, 0.1, 0.9, 0.9], np.float32),
        "shape": np.array([1, 6], np.int64),
    }
    save_graph(nodes, constants, (1, 3, INPUT_H, INPUT_W), (1, 6), path)
    scene = camera()
    scene.carry_in_ebike(3.0, 12.0)

    assert watch(scene, 25.0, **with_model(path)) == []


def test_missing_model_file_is_refused_naming_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.onnx"
    with pytest.raises(ValueError, match="onnx_model: .*nowhere.onnx does not exist"):
        ElevatorEbikeDetector.from_config({"onnx_model": str(missing)})


def test_file_that_is_not_an_onnx_model_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "weights.onnx"
    bad.write_bytes(b"this is a JPEG, honestly")
    with pytest.raises(ValueError, match="onnx_model: OpenCV cannot load .*weights.onnx"):
        ElevatorEbikeDetector.from_config({"onnx_model": str(bad)})


def test_model_with_another_output_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "classifier.onnx"
    nodes = [helper.make_node("ReduceMean", ["image"], ["detections"], axes=[2, 3], keepdims=0)]
    save_graph(nodes, {}, (1, 3, INPUT_H, INPUT_W), (1, 3), path)
    with pytest.raises(ValueError, match=r"rows of 6 values \[x1, y1, x2, y2, score, class\]"):
        ElevatorEbikeDetector.from_config(with_model(path))


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"onnx_model": 7}, "onnx_model"),
        ({"onnx_class_ids": ["ebike"]}, "onnx_class_ids"),
        ({"onnx_input_size": [320]}, "onnx_input_size"),
        ({"onnx_min_score": 2}, "onnx_min_score"),
    ],
)
def test_bad_model_settings_are_refused_naming_the_field(
    settings: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        ElevatorEbikeDetector.from_config(settings)
