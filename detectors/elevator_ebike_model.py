"""What an e-bike looks like to the elevator detector: blob features and a small classifier.

A candidate is one foreground blob (see detectors/elevator_ebike.py): whatever stands in the
car apart from the empty-car background, often a person together with what they push. Its
features are
- a histogram of oriented gradients of the blob's picture, 64x64 grey (outline and parts:
  small thick wheels and a bulky body against large thin spoked wheels, mesh or fabric),
- the same of the blob's foreground mask (its silhouette, without the surface texture),
- colour: hue weighted by saturation, saturation and brightness histograms of its pixels,
- shape: area, aspect ratio and how much of its box it fills.
Apart from those, `spoke_share` measures how much of the lower part of the silhouette is thin
line work (spokes, thin frame tubes), which the detector uses to overrule the classifier.
The classifier is a small neural network (one hidden layer) on standardised features; its
weights and the standardisation live in `elevator_ebike_model.npz` next to this file.

Retraining: `python -m detectors.elevator_ebike_training` (see that module) films rendered
rides of the benchmark's own scripts, labels the blobs the detector sees from the renderer's
ground truth, fits `BlobClassifier.fit` and writes the weights here; `BlobClassifier.averaged`
merges several fitted networks into one file of the same format. Use tuning seeds only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MODEL_PATH = Path(__file__).with_name("elevator_ebike_model.npz")
PATCH = 64
ORIENTATIONS = 9
CELL = 8
# The wheel band of a blob is its lowest part, where the wheels are (most of a rider's body
# is above it). Thin lines are told from surfaces at processing size (320 px wide).
WHEEL_BAND = 0.4
THIN_KERNEL = 3
THIN_CONTRAST = 20


def blob_features(crop: np.ndarray, mask: np.ndarray, frame_area: int) -> np.ndarray:
    """Feature row (float32) of one candidate: its BGR picture and its bool mask, same size."""
    h, w = mask.shape
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    patch = cv2.resize(grey, (PATCH, PATCH), interpolation=cv2.INTER_AREA)
    shape_patch = cv2.resize(mask.astype(np.uint8) * 255, (32, 32), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)[mask].astype(np.float32)
    if len(hsv) == 0:
        hsv = np.zeros((1, 3), np.float32)
    saturation = hsv[:, 1] / 255.0
    hue = np.histogram(hsv[:, 0], bins=9, range=(0, 180), weights=saturation)[0]
    sat = np.histogram(hsv[:, 1], bins=4, range=(0, 256))[0]
    val = np.histogram(hsv[:, 2], bins=6, range=(0, 256))[0]
    n = float(len(hsv))
    area = np.count_nonzero(mask)
    shape = [
        np.sqrt(area / frame_area),
        np.log(w / h),
        area / (w * h),
        np.sqrt(w * h / frame_area),
    ]
    return np.concatenate(
        [
            gradient_histograms(patch),
            gradient_histograms(shape_patch),
            hue / n,
            sat / n,
            val / n,
            np.asarray(shape, np.float32),
        ]
    ).astype(np.float32)


def gradient_histograms(patch: np.ndarray) -> np.ndarray:
    """Histograms of oriented gradients (Dalal & Triggs layout) of a grey uint8 patch.

    Unsigned orientations in 9 bins per 8x8 cell; each 2x2 block of cells is normalised on
    its own (L2, clipped at 0.2, renormalised), so contrast and lighting matter little.
    """
    grey = patch.astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=1)
    magnitude, angle = cv2.cartToPolar(gx, gy, angleInDegrees=True)
    bins = (np.mod(angle, 180.0) * (ORIENTATIONS / 180.0)).astype(np.int32) % ORIENTATIONS
    h, w = grey.shape
    cells_y, cells_x = h // CELL, w // CELL
    votes = np.zeros((h, w, ORIENTATIONS), np.float32)
    np.put_along_axis(votes, bins[..., None], magnitude[..., None], axis=2)
    cells = (
        votes[: cells_y * CELL, : cells_x * CELL]
        .reshape(cells_y, CELL, cells_x, CELL, ORIENTATIONS)
        .sum(axis=(1, 3))
    )
    blocks = np.concatenate(
        [cells[:-1, :-1], cells[:-1, 1:], cells[1:, :-1], cells[1:, 1:]], axis=2
    ).reshape(-1, 4 * ORIENTATIONS)
    blocks /= np.sqrt((blocks**2).sum(axis=1, keepdims=True) + 1e-6)
    blocks = np.minimum(blocks, 0.2)
    blocks /= np.sqrt((blocks**2).sum(axis=1, keepdims=True) + 1e-6)
    return blocks.ravel()


def spoke_share(crop: np.ndarray, mask: np.ndarray) -> float:
    """Share of the blob's wheel band (its lowest 40 %) drawn in thin lines: 0..1.

    `crop` is the blob's BGR picture at processing size, not blurred; `mask` its bool mask.
    A thin line is a pixel that differs from the median of its neighbourhood by more than
    `THIN_CONTRAST` grey levels. Spoked wheels and a bicycle's thin tubes are mostly such
    lines; an e-bike's fat tyres, solid hubs, battery and footboard are broad surfaces.
    """
    top = int(mask.shape[0] * (1.0 - WHEEL_BAND))
    band = mask[top:]
    pixels = np.count_nonzero(band)
    if pixels == 0 or min(band.shape) < THIN_KERNEL:
        return 0.0
    grey = cv2.cvtColor(crop[top:], cv2.COLOR_BGR2GRAY)
    contrast = np.abs(grey.astype(np.int16) - cv2.medianBlur(grey, THIN_KERNEL))
    return np.count_nonzero((contrast > THIN_CONTRAST) & band) / pixels


@dataclass(frozen=True)
class BlobClassifier:
    """A small neural network (one hidden layer of ReLUs) on standardised features."""

    mean: np.ndarray
    scale: np.ndarray
    hidden_weights: np.ndarray  # (features, hidden)
    hidden_bias: np.ndarray
    out_weights: np.ndarray  # (hidden,)
    out_bias: float

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> BlobClassifier:
        """Read the weights; a missing or damaged file is reported with its path."""
        try:
            with np.load(path) as data:
                return cls(
                    **{
                        name: data[name].astype(np.float32)
                        for name in ("mean", "scale", "hidden_weights", "hidden_bias")
                    },
                    out_weights=data["out_weights"].astype(np.float32),
                    out_bias=float(data["out_bias"]),
                )
        except (OSError, KeyError, ValueError) as err:
            raise ValueError(f"cannot read the e-bike classifier from {path}: {err}") from err

    def save(self, path: Path = MODEL_PATH) -> None:
        """Write the weights (half precision: plenty for this, and a quarter of the size)."""
        np.savez_compressed(
            path,
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            hidden_weights=self.hidden_weights.astype(np.float16),
            hidden_bias=self.hidden_bias.astype(np.float32),
            out_weights=self.out_weights.astype(np.float32),
            out_bias=np.float32(self.out_bias),
        )

    def probability(self, features: np.ndarray) -> np.ndarray:
        """Probability that each row of `features` is (or holds) an e-bike."""
        rows = np.atleast_2d(features).astype(np.float32)
        if rows.shape[1] != len(self.mean):
            raise ValueError(
                f"features have {rows.shape[1]} columns but the classifier expects "
                f"{len(self.mean)}; retrain it (see detectors/elevator_ebike_model.py)"
            )
        hidden = np.maximum(
            ((rows - self.mean) / self.scale) @ self.hidden_weights, -self.hidden_bias
        )
        score = (hidden + self.hidden_bias) @ self.out_weights + self.out_bias
        return 1.0 / (1.0 + np.exp(-np.clip(score, -30, 30)))

    @classmethod
    def averaged(cls, members: list[BlobClassifier]) -> BlobClassifier:
        """One network whose score (log-odds) is the mean of the members' scores.

        Networks trained on different rides disagree on the look-alikes each got wrong, so
        their mean is surer than either. The members' hidden units are put side by side,
        each member's standardisation folded into its weights (in the first one's terms).
        """
        if not members:
            raise ValueError("averaging needs at least one classifier")
        first = members[0]
        weights, biases, outs = [], [], []
        for member in members:
            # (x - m)/s = ((x - m0)/s0 * s0 + m0 - m)/s: rescale rows, shift the bias.
            ratio = (first.scale / member.scale).astype(np.float32)
            shift = ((first.mean - member.mean) / member.scale).astype(np.float32)
            weights.append(member.hidden_weights * ratio[:, None])
            biases.append(member.hidden_bias + shift @ member.hidden_weights)
            outs.append(member.out_weights / len(members))
        return cls(
            first.mean,
            first.scale,
            np.concatenate(weights, axis=1),
            np.concatenate(biases),
            np.concatenate(outs),
            float(np.mean([m.out_bias for m in members])),
        )

    @classmethod
    def fit(
        cls,
        features: np.ndarray,
        labels: np.ndarray,
        *,
        hidden: int = 32,
        epochs: int = 30,
        weight_decay: float = 1e-3,
        seed: int = 0,
    ) -> BlobClassifier:
        """Train on labelled rows (True = e-bike) with Adam on the weighted log-loss.

        The rarer class is weighted up so that neither swamps the other.
        """
        rng = np.random.default_rng(seed)
        rows = np.asarray(features, np.float32)
        y = np.asarray(labels, np.float32)
        mean = rows.mean(axis=0)
        scale = rows.std(axis=0) + 1e-3
        x = (rows - mean) / scale
        share = float(y.mean())
        sample_weight = np.where(y > 0, 0.5 / share, 0.5 / (1.0 - share)).astype(np.float32)
        params = [
            rng.normal(0, np.sqrt(2.0 / x.shape[1]), (x.shape[1], hidden)).astype(np.float32),
            np.zeros(hidden, np.float32),
            rng.normal(0, np.sqrt(1.0 / hidden), hidden).astype(np.float32),
            np.zeros(1, np.float32),
        ]
        moments = [np.zeros_like(p) for p in params]
        squares = [np.zeros_like(p) for p in params]
        step, rate, batch = 0, 1e-3, 128
        for _ in range(epochs):
            order = rng.permutation(len(x))
            for start in range(0, len(x), batch):
                pick = order[start : start + batch]
                xb, yb, wb = x[pick], y[pick], sample_weight[pick]
                w1, b1, w2, b2 = params
                pre = xb @ w1 + b1
                act = np.maximum(pre, 0)
                p = 1.0 / (1.0 + np.exp(-np.clip(act @ w2 + b2[0], -30, 30)))
                d_score = wb * (p - yb) / len(pick)
                d_act = np.outer(d_score, w2) * (pre > 0)
                grads = [
                    xb.T @ d_act + weight_decay * w1,
                    d_act.sum(axis=0),
                    act.T @ d_score + weight_decay * w2,
                    np.array([d_score.sum()], np.float32),
                ]
                step += 1
                for i, g in enumerate(grads):
                    moments[i] = 0.9 * moments[i] + 0.1 * g
                    squares[i] = 0.999 * squares[i] + 0.001 * g * g
                    m_hat = moments[i] / (1 - 0.9**step)
                    v_hat = squares[i] / (1 - 0.999**step)
                    params[i] = (params[i] - rate * m_hat / (np.sqrt(v_hat) + 1e-8)).astype(
                        np.float32
                    )
        w1, b1, w2, b2 = params
        return cls(mean, scale, w1, b1, w2, float(b2[0]))
