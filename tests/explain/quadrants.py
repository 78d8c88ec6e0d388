"""A task with a known answer for attribution methods: the class of a 32x32 image is the
shape drawn in one of its quadrants; a distractor disk, the same in every class, sits in
another quadrant. A network that learned the task must look at the shape's quadrant.

The network is a small member of the family built from a spec like any other (two
blocks as branch tables), trained for a fixed number of steps; its weights are cached in
pytest's cache directory, keyed by everything that decides them.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from googlenet.models.inception_net import InceptionNet
from googlenet.models.registry import init_weights
from googlenet.specs.blocks import BlockSpec, Branch, Conv, Pool
from googlenet.specs.types import NetSpec, Row

SIZE, PATCH, HALF = 32, 10, 16
STEPS, BATCH, LR, SEED = 150, 64, 3e-3, 0
CACHE_KEY = f"quadrants-v1-{STEPS}-{BATCH}-{LR:g}-{SEED}"


def _block(width: int) -> BlockSpec:
    return BlockSpec((
        Branch("b1", (Conv(width, 1, name="b1"),)),
        Branch("b3", (Conv(width, 1, name="b3.reduce"), Conv(width, 3, name="b3.conv"))),
        Branch("b5", (Conv(width // 2, 1, name="b5.reduce"), Conv(width // 2, 5, name="b5.conv"))),
        Branch("bp", (Pool("max", 3, 1, name="bp.pool"), Conv(width // 2, 1, name="bp.proj"))),
    ), label="small inception")


SPEC = NetSpec(
    "quadrants", rows=(
        Row("conv1", "conv", patch=3, stride=1, depth=1, out=16),
        Row("pool1", "avg_pool", patch=2, stride=2),
        Row("block_a", "block", block=_block(16)),
        Row("pool2", "avg_pool", patch=2, stride=2),
        Row("block_b", "block", block=_block(24)),
        Row("avgpool", "global_avg_pool"),
        Row("fc", "linear", depth=1)),
    input_size=SIZE, in_chans=1, num_classes=4, norm="bn", use_lrn=False,
    pool_ceil_mode=False, dropout=0.0, mean=(0.0,), std=(1.0,))


def _patterns() -> np.ndarray:
    p = np.zeros((4, PATCH, PATCH), np.float32)
    p[0, 4:6, :] = p[0, :, 4:6] = 1  # plus
    eye = np.eye(PATCH, dtype=np.float32)
    p[1] = np.maximum(eye + eye[::-1], np.roll(eye + eye[::-1], 1, 1)).clip(0, 1)  # X
    p[2, :2, :] = p[2, -2:, :] = p[2, :, :2] = p[2, :, -2:] = 1  # hollow square
    p[3, 1:3, :] = p[3, 7:9, :] = 1  # two bars
    return p


PATTERNS = _patterns()
_yy, _xx = np.mgrid[0:PATCH, 0:PATCH]
DISK = (((_yy - 4.5) ** 2 + (_xx - 4.5) ** 2) <= 20).astype(np.float32)


def quadrant_of(row: int, col: int) -> int:
    """0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right."""
    return (row // HALF) * 2 + col // HALF


def make_images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """``n`` images (N, 1, 32, 32) on noise, their classes and their shapes' quadrants."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.2, 0.08, (n, 1, SIZE, SIZE)).astype(np.float32)
    labels = rng.integers(0, 4, n)
    where = rng.integers(0, 4, n)
    distractor = (where + rng.integers(1, 4, n)) % 4  # always another quadrant
    for i in range(n):
        for quadrant, pattern in ((where[i], PATTERNS[labels[i]]), (distractor[i], DISK)):
            r = (quadrant // 2) * HALF + rng.integers(1, HALF - PATCH)
            c = (quadrant % 2) * HALF + rng.integers(1, HALF - PATCH)
            x[i, 0, r:r + PATCH, c:c + PATCH] = np.maximum(x[i, 0, r:r + PATCH, c:c + PATCH],
                                                           pattern)
    return torch.from_numpy(x), torch.from_numpy(labels), where


def fresh_model() -> InceptionNet:
    torch.manual_seed(SEED)
    model = InceptionNet(SPEC)
    init_weights(model)
    return model


def _train() -> InceptionNet:
    # One thread: a network this small only loses time to a second one on a busy machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit()
    finally:
        torch.set_num_threads(threads)


def _fit() -> InceptionNet:
    model = fresh_model().train()
    x, y, _ = make_images(4096, seed=1)
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), LR)
    for _ in range(STEPS):
        idx = torch.randint(0, len(x), (BATCH,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def trained_model(request: pytest.FixtureRequest) -> InceptionNet:
    """The trained network, from pytest's cache when it holds it."""
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    path = cache.mkdir("googlenet-explain") / f"{CACHE_KEY}.safetensors" if cache else None
    if path is not None and path.exists():
        model = fresh_model().eval()
        model.load_state_dict(load_file(str(path)))
        return model
    model = _train()
    if path is not None:
        tmp = path.with_suffix(".tmp")
        save_file(model.state_dict(), str(tmp))
        os.replace(tmp, path)
    return model
