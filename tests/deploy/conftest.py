"""A small GoogLeNet-family model trained for a few seconds, for agreement checks.

Top-1 agreement between eager and bf16/int8 says nothing on random weights (the logits
are near ties), so the low-precision tests use a model trained here: the course's
two-InceptionA network (``inception_a_net``) on Fashion-MNIST when the package finds it
(``googlenet.data.find_idx_dataset``: $GOOGLENET_DATA, the cache, Debian's package),
else on the package's synthetic shapes and textures (``SyntheticDataset``). Held-out
images come from the other split. Both are read by the package's own readers (the IDX
reader, the synthetic generator), not copies of them.
"""

from __future__ import annotations

import os

import pytest
import torch
from safetensors.torch import load_file, save_file

from googlenet.data import (
    IDXDataset,
    SyntheticDataset,
    TensorImageDataset,
    default_dataset_name,
    to_float,
)
from googlenet.models import create_model
from tests.deploy.kernels import isa, kernel  # noqa: F401  # fixtures for the kernel tests

MODEL = "inception_a_net"
TRAIN_STEPS = 200
# AdamW at 1e-3: Fashion-MNIST reached 0.83 in 200 steps (0.81 at 3e-3); on the synthetic
# set 3e-3 sat at chance for the first 100 steps and 6e-3 never left it.
LR = 1e-3
TRAIN_IMAGES, HELD_OUT_IMAGES = 8192, 1000
# The synthetic set's first four classes (disc small/large, stripes low/high). With all
# ten, 200 steps reached 0.85 but so many held-out images sat near a tie that int8 top-1
# agreement wandered between 0.987 and 0.998 across step counts, around the 0.99 the
# tests require; four classes train to 0.997 with agreement 0.999, so a failure means
# a broken quantizer, not an undecided model. Fashion-MNIST keeps its ten.
SYNTHETIC_CLASSES = 4


def _dataset(source: str, split: str, n: int) -> TensorImageDataset:
    if source == "fashion-mnist":
        return IDXDataset("fashion-mnist", "test" if split == "test" else "train")
    return SyntheticDataset(n, num_classes=SYNTHETIC_CLASSES, image_size=28, channels=1,
                            split=split)


def _train(x: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.nn.Module:
    torch.manual_seed(0)
    model = create_model(MODEL, num_classes=num_classes)
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(TRAIN_STEPS):
        idx = torch.randint(0, len(x), (64,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.fixture(scope="session")
def trained(request: pytest.FixtureRequest) -> dict[str, object]:
    """{"model", "held_out", "labels", "calibration", "accuracy", "dataset"} for a trained
    model.

    Training is a fixed number of steps (seconds on 2 idle cores); the weights are
    cached as safetensors in pytest's cache directory, keyed by data source and recipe.
    """
    source = default_dataset_name()
    train = _dataset(source, "train", TRAIN_IMAGES)
    test = _dataset(source, "test", HELD_OUT_IMAGES)
    # Normalised with the training images' own mean and std (for Fashion-MNIST the usual
    # 0.286 and 0.353).
    pixels = train.images[:TRAIN_IMAGES].float() / 255
    mean, std = (pixels.mean().item(),), (pixels.std().item(),)
    x, y = to_float(train.images[:TRAIN_IMAGES], mean, std), train.targets[:TRAIN_IMAGES]
    hx, hy = to_float(test.images[:HELD_OUT_IMAGES], mean, std), test.targets[:HELD_OUT_IMAGES]
    num_classes = len(train.classes)
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    name = f"{MODEL}-{source}{num_classes}-{TRAIN_STEPS}-lr{LR:g}.safetensors"
    path = cache.mkdir("googlenet-deploy") / name if cache else None
    if path is not None and path.exists():
        model = create_model(MODEL, num_classes=num_classes).eval()
        model.load_state_dict(load_file(str(path)))
    else:
        model = _train(x, y, num_classes)
        if path is not None:
            tmp = path.with_suffix(".tmp")
            save_file(model.state_dict(), str(tmp))
            os.replace(tmp, path)
    with torch.no_grad():
        acc = (model(hx).argmax(1) == hy).float().mean().item()
    return {"model": model, "held_out": hx, "labels": hy, "calibration": x[-512:],
            "accuracy": acc, "dataset": source}
