"""Shared fixtures of the transfer tests: a full-size BVLC GoogLeNet caffemodel."""

import sys
from pathlib import Path

import pytest

# Helper modules sit beside the tests; make them importable under any import mode.
sys.path.insert(0, str(Path(__file__).parent))

from bvlc_reference import random_bvlc_layers  # noqa: E402

from googlenet.weights.caffe import write_caffemodel  # noqa: E402


@pytest.fixture(scope="session")
def bvlc_layers() -> dict:
    """BVLC GoogLeNet's layer names, types and shapes with random weights."""
    return random_bvlc_layers(seed=0)


@pytest.fixture(scope="session")
def caffemodel(tmp_path_factory: pytest.TempPathFactory, bvlc_layers: dict) -> Path:
    """The layers written as a caffemodel (53 MB), with a blob-less ReLU in between."""
    path = tmp_path_factory.mktemp("caffe") / "bvlc_googlenet.caffemodel"
    layers = dict(bvlc_layers)
    layers["conv1/relu_7x7"] = ("ReLU", [])
    write_caffemodel(path, layers)
    return path


@pytest.fixture(scope="session")
def caffe_safetensors(tmp_path_factory: pytest.TempPathFactory, caffemodel: Path) -> Path:
    """The caffemodel converted by the library."""
    from googlenet.weights.convert import convert

    path = tmp_path_factory.mktemp("converted") / "googlenet_caffe.safetensors"
    convert(caffemodel, path, "caffe")
    return path
