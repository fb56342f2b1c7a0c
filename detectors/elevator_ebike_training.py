"""Retrain the elevator's e-bike classifier on rendered rides (a tool, not part of a detector).

    python -m detectors.elevator_ebike_training --seeds 4100 4200 4300 --clips 200 --workers 2 \
        --members 4 --average-with first_model.npz

films the clips `gridwatch simulate dataset --detector elevator_ebike` would write for each
seed (same scenes, same JPEG quality), feeds every frame, JPEG-compressed and decoded again,
to an `ElevatorEbikeDetector`, and labels each foreground blob it sees from the renderer's
ground truth: an e-bike when the blob holds most of an e-bike's box, not one when it holds
(almost) none of one. Blobs holding part of an e-bike are left out. Negative clips are all
look-alikes (bicycles, strollers, wheelchairs, trolleys, people), so they teach the hard
cases. The classifier is then fitted and written to `elevator_ebike_model.npz`; with
`--average-with` it is first averaged with earlier classifiers (`BlobClassifier.averaged`:
networks trained on different rides err on different look-alikes). `--samples` keeps the
collected blobs, so fitting again skips the filming.

Only tuning seeds belong here: a seed used for training cannot report held-out figures.
This module imports the simulators; the detector itself never does.
"""

from __future__ import annotations

import argparse
import time
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np

from detectors.elevator_ebike import ElevatorEbikeDetector
from detectors.elevator_ebike_model import MODEL_PATH, BlobClassifier

DETECTOR = "elevator_ebike"
# A blob is an e-bike sample when it holds this share of an e-bike's box, and a negative one
# when it holds at most the lower share (a person's blob brushing the bike's handlebar).
HOLDS_EBIKE = 0.6
HOLDS_NO_EBIKE = 0.15
FRAME_STRIDE = 2


def covered_share(blob: tuple[float, float, float, float], item: tuple[float, ...]) -> float:
    """Share of `item`'s box (x, y, w, h, normalised) that lies inside `blob`'s box."""
    bx, by, bw, bh = blob
    ix, iy, iw, ih = item
    overlap_w = max(0.0, min(bx + bw, ix + iw) - max(bx, ix))
    overlap_h = max(0.0, min(by + bh, iy + ih) - max(by, iy))
    return overlap_w * overlap_h / max(iw * ih, 1e-9)


def blob_label(
    blob: tuple[float, float, float, float],
    objects: list[tuple[str, tuple[float, float, float, float]]],
) -> bool | None:
    """True: the blob holds an e-bike; False: it holds none; None: unclear (left out)."""
    shares = [covered_share(blob, box) for label, box in objects if label == "ebike"]
    best = max(shares, default=0.0)
    if best >= HOLDS_EBIKE:
        return True
    if best <= HOLDS_NO_EBIKE:
        return False
    return None


def clip_samples(job: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, str]:
    """Feature rows and labels of the labelled blobs in clip `index` of a dataset, every
    `FRAME_STRIDE`-th frame (neighbouring frames are near copies)."""
    from simulators.dataset import plan_clip  # training only: detectors never need it

    seed, clips, index = job
    clip = plan_clip(DETECTOR, clips, seed, index)
    plan = clip.plan
    detector = ElevatorEbikeDetector()
    rows, labels = [], []
    for frame_index in range(plan.frames):
        t = frame_index / plan.fps
        ok, jpeg = cv2.imencode(
            ".jpg", plan.scene.render(t), [cv2.IMWRITE_JPEG_QUALITY, clip.jpeg_quality]
        )
        assert ok
        frame = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
        candidates = detector.candidates(frame, t)
        if not candidates or frame_index % FRAME_STRIDE:
            continue
        objects = plan.scene.objects_at(t)
        for candidate in candidates:
            box = candidate.box
            label = blob_label((box.x, box.y, box.w, box.h), objects)
            if label is not None:
                rows.append(candidate.features)
                labels.append(label)
    features = np.stack(rows) if rows else np.zeros((0, 0), np.float32)
    return features, np.asarray(labels, bool), f"{seed}/{clip.name}"


def collect(
    seeds: list[int], clips: int, workers: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels and the clip number (for a split by clip) over all clips of `seeds`."""
    jobs = [(seed, clips, index) for seed in seeds for index in range(clips)]
    features, labels, groups = [], [], []
    started = time.perf_counter()
    with get_context("spawn").Pool(workers) as pool:
        for number, (rows, y, name) in enumerate(pool.imap(clip_samples, jobs)):
            if len(y):
                features.append(rows)
                labels.append(y)
                groups.append(np.full(len(y), number))
            print(
                f"{name}: {len(y)} blobs, {int(y.sum())} e-bike "
                f"({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    return np.concatenate(features), np.concatenate(labels), np.concatenate(groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", required=True, help="tuning seeds only")
    parser.add_argument("--clips", type=int, default=200, help="clips per seed")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--samples", type=Path, help="keep the collected blobs in this .npz")
    parser.add_argument(
        "--members", type=int, default=1, help="networks to fit (fit seeds 0, 1, ...), averaged"
    )
    parser.add_argument(
        "--average-with",
        type=Path,
        nargs="*",
        default=[],
        help="classifier files (.npz) whose scores are averaged with the new one's",
    )
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    if args.samples is not None and args.samples.exists():
        with np.load(args.samples) as data:
            features, labels = data["features"], data["labels"]
    else:
        features, labels, groups = collect(args.seeds, args.clips, args.workers)
        if args.samples is not None:
            np.savez_compressed(args.samples, features=features, labels=labels, groups=groups)
    print(f"fitting on {len(labels)} blobs, {int(labels.sum())} e-bike", flush=True)
    others = [BlobClassifier.load(path) for path in args.average_with]
    fitted = [BlobClassifier.fit(features, labels, seed=seed) for seed in range(args.members)]
    BlobClassifier.averaged([*others, *fitted]).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
