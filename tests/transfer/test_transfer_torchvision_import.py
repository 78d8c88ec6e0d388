"""torchvision ``.pth`` import through files: parity with torchvision's own pipeline
(ImageNet normalisation + ``transform_input``), model detection, and bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from googlenet import create_model
from googlenet.errors import WeightsError
from googlenet.weights import load_model
from googlenet.weights.convert import convert, import_weights
from googlenet.weights.torchvision_map import to_torchvision
from tests.weights.tv_reference import GoogLeNetRef

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


@pytest.fixture(scope="module")
def googlenet_pth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GoogLeNetRef]:
    ref = GoogLeNetRef(seed=1)
    with torch.no_grad():
        ref(torch.zeros(1, 3, 224, 224))  # the first call creates the weights
    path = tmp_path_factory.mktemp("tv") / "googlenet-1378be20.pth"
    torch.save(ref.sd, path)
    return path, ref


def test_googlenet_matches_torchvision_pipeline(googlenet_pth, tmp_path: Path) -> None:
    pth, ref = googlenet_pth
    dst = tmp_path / "googlenet_bn.safetensors"
    meta = convert(pth, dst, "torchvision")  # the model is told by the keys
    assert meta.model == "googlenet_bn" and meta.recipe.aux_logits is True
    model, read = load_model(dst)
    rng = np.random.default_rng(0)
    pixels = torch.from_numpy(rng.integers(0, 256, (2, 3, 224, 224), dtype=np.uint8))
    with torch.no_grad():
        ours = model(read.preprocessing.normalize(pixels))
        # torchvision: ImageNet normalisation, then transform_input=True undoes it into
        # (x - 0.5) / 0.5 for the TF-converted weights.
        x = (pixels.float() / 255 - IMAGENET_MEAN) / IMAGENET_STD
        x = x * (IMAGENET_STD / 0.5) + (IMAGENET_MEAN - 0.5) / 0.5
        theirs = ref(x)[0]
    diff = (ours - theirs).abs().max().item()
    print(f"torchvision googlenet parity: max abs diff {diff:.2e}")
    assert theirs.abs().max() > 0.1 and diff <= 1e-4


def test_inception_v3_is_detected(tmp_path: Path) -> None:
    ours = create_model("inception_v3", aux_logits=True).state_dict()
    pth = tmp_path / "inception_v3_google-0cc3c7bd.pth"
    torch.save(to_torchvision(ours, "inception_v3"), pth)
    imported = import_weights(pth, "torchvision")
    pre = imported.meta.preprocessing
    assert imported.meta.model == "inception_v3" and pre.input_size == 299
    assert (pre.mean, pre.std) == ((0.5,) * 3, (0.5,) * 3)
    assert all(torch.equal(imported.state_dict[k], v) for k, v in ours.items())


def _error(path: Path, match: str, model: str | None = None) -> None:
    with pytest.raises(WeightsError, match=match) as info:
        import_weights(path, "torchvision", model)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_bad_files(googlenet_pth, tmp_path: Path) -> None:
    pth, ref = googlenet_pth
    sd = dict(ref.sd)
    _error(pth, "unexpected key 'conv1.conv.weight'", model="inception_v3")
    _error(pth, "torchvision weights load into googlenet_bn, inception_v3, not 'googlenet'",
           model="googlenet")
    missing = tmp_path / "missing.pth"
    torch.save({k: v for k, v in sd.items() if k != "inception4c.branch3.1.conv.weight"},
               missing)
    _error(missing, "missing key 'inception4c.branch3.1.conv.weight'")
    shaped = tmp_path / "shaped.pth"
    torch.save({**sd, "inception4e.branch3.1.conv.weight": torch.zeros(128, 32, 5, 5)}, shaped)
    _error(shaped, r"'inception4e.branch3.1.conv.weight' .*: file has \(128, 32, 5, 5\)")
    cut = tmp_path / "cut.pth"
    cut.write_bytes(pth.read_bytes()[:100_000])
    _error(cut, "truncated or corrupt")


class Payload:
    """Anything that is not plain tensors: unpickling it would run code."""


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"conv1.conv.weight": torch.zeros(1), "x": Payload()}, path)
    _error(path, "not a weights-only PyTorch file")
