"""The weights catalogue as data: every entry complete (or listed here as lacking a fact
its publisher does not give), consistent with the importers' release table, and named
after a registry model."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from googlenet.errors import UnknownReleaseError
from googlenet.models import list_models
from googlenet.weights.catalogue import (
    CATALOGUE,
    default_release,
    find_release,
    get_release,
)
from googlenet.weights.convert import _IMPORTERS
from googlenet.weights.sources import SOURCES

# The publishers give no file size for these (BVLC's readme, timm's and Cadene's code,
# and Keras for its notop files: keras.io sizes the model with its top).
LACKING_SIZE = {
    "googlenet.bvlc", "inception_v3.tf_in1k", "inception_v3_keras.in1k_notop",
    "inception_v4.tf_in1k", "inception_resnet_v2.tf_in1k",
    "inception_resnet_v2.cadene_in1k", "inception_resnet_v2.keras_in1k_notop",
    "bn_inception.caffe_in1k",
}
# Files without a classifier have no ImageNet accuracy of their own.
LACKING_ACCURACY = {"inception_v3_keras.in1k_notop", "inception_resnet_v2.keras_in1k_notop"}
# Every entry has a URL and a checksum: nothing is ever downloaded unverified.
LACKING_CHECKSUM: set[str] = set()


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.name)
def test_every_entry_is_complete_or_listed_as_lacking(entry):
    assert re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", entry.name)
    assert urlparse(entry.url).scheme in ("http", "https") and entry.url.endswith(entry.file)
    assert (entry.checksum is None) == (entry.name in LACKING_CHECKSUM)
    assert (entry.size_mb is None) == (entry.name in LACKING_SIZE)
    assert (entry.accuracy is None) == (entry.name in LACKING_ACCURACY)
    if entry.accuracy is not None:
        assert 50 < entry.accuracy.top1 < entry.accuracy.top5 < 100
        assert entry.accuracy.source  # cited
    assert entry.licence


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.name)
def test_every_entry_names_a_model_an_importer_and_a_file_it_reads(entry):
    assert entry.model in list_models()
    assert entry.source in SOURCES and entry.source in _IMPORTERS
    assert entry.file in entry.release.files  # the release table knows the file
    assert entry.preprocessing is entry.release.preprocessing
    if entry.checksum is not None and entry.checksum.is_prefix:
        # torch.hub's convention: the digits after the last '-' of the file's name.
        assert entry.file.endswith(f"-{entry.checksum.digest}.pth")


def test_names_are_unique_and_each_model_has_at_most_one_default():
    names = [e.name for e in CATALOGUE]
    assert len(names) == len(set(names))
    for model in {e.model for e in CATALOGUE}:
        defaults = [e.name for e in CATALOGUE if e.model == model and e.default]
        assert len(defaults) == 1, (model, defaults)
        assert default_release(model) is find_release(defaults[0])


def test_the_issue_s_example_names_exist():
    for name in ("googlenet_bn.tv_in1k", "inception_v3_keras.in1k_notop", "googlenet.bvlc"):
        assert get_release(name).name == name
    assert get_release("inception_v3_keras.in1k_notop").checksum.algorithm == "md5"
    assert get_release("googlenet.bvlc").checksum.algorithm == "sha1"
    with pytest.raises(UnknownReleaseError, match="did you mean googlenet_bn.tv_in1k"):
        get_release("googlenet_bn.tv_inik")


def test_the_readme_names_every_release():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert [e.name for e in CATALOGUE if f"`{e.name}`" not in readme] == []
