"""A family member is one file: its family module's ``ENTRIES`` (spec, registry facts and
releases) are what the registry, the importers' release table and the weights catalogue
show, each model named once (issue 26)."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace

import pytest

import googlenet.specs
from googlenet.errors import SpecError
from googlenet.models import MODELS
from googlenet.models.registry import build_registry
from googlenet.preprocessing import Preprocessing
from googlenet.specs import FAMILIES, GOOGLENET, ModelInfo, PublishedWeights, Release
from googlenet.weights.catalogue import CATALOGUE, RELEASE_NAMES
from googlenet.weights.convert import _IMPORTERS
from googlenet.weights.sources import RELEASES, SOURCES

ENTRIES = [info for family in FAMILIES for info in family]


def test_every_family_module_s_entries_are_collected():
    modules = [importlib.import_module(f"googlenet.specs.{m.name}")
               for m in pkgutil.iter_modules(googlenet.specs.__path__)]
    exported = [m.ENTRIES for m in modules if hasattr(m, "ENTRIES")]
    assert len(exported) >= 6  # googlenet, small, v3, v4, Inception-ResNet, BN-Inception
    assert sorted(map(id, exported)) == sorted(map(id, FAMILIES))


def test_the_registry_is_the_entries_in_family_order():
    assert list(MODELS.values()) == ENTRIES
    assert len({info.name for info in ENTRIES}) == len(ENTRIES)
    assert all(MODELS[info.name].spec is info.spec for info in ENTRIES)


def test_release_table_and_catalogue_are_the_entries_releases():
    assert tuple(r for info in ENTRIES for r in info.releases) == RELEASES
    assert tuple(w for info in ENTRIES for w in info.weights) == CATALOGUE
    assert len(set(RELEASE_NAMES)) == len(RELEASE_NAMES)
    for info in ENTRIES:
        for r in info.releases:
            assert r.model == info.name
            assert r.source in SOURCES and r.source in _IMPORTERS
        for w in info.weights:
            assert w.release in info.releases and w.model == info.name
            assert w.name == f"{info.name}.{w.tag}" and w.file in w.release.files


def _member(name: str = "googlenet_new") -> ModelInfo:
    release = Release("caffe", ("new.caffemodel",), Preprocessing(), "a new release")
    weights = PublishedWeights("in1k", release, "new.caffemodel",
                               "https://example.org/new.caffemodel", None, None, "none", None,
                               default=True)
    return ModelInfo(replace(GOOGLENET, name=name), "A new member.", "Someone 2026",
                     min_input_size=31, num_params=1, releases=(release,), weights=(weights,))


def test_a_new_member_is_registered_from_its_family_tuple_alone():
    registry = build_registry((*FAMILIES, (_member(),)))
    assert list(registry) == [*MODELS, "googlenet_new"]
    new = registry["googlenet_new"]
    assert new.releases[0].model == "googlenet_new"
    assert new.weights[0].name == "googlenet_new.in1k"
    assert new.weights[0].release is new.releases[0] and new.weights[0].source == "caffe"
    assert list(MODELS) == [info.name for info in ENTRIES]  # nothing global changed


def test_a_model_s_name_is_its_spec_s_and_its_releases_follow_a_rename():
    info = MODELS["googlenet_bn"]
    renamed = replace(info, spec=replace(info.spec, name="googlenet_bn2"))
    assert renamed.name == "googlenet_bn2"
    assert [r.model for r in renamed.releases] == ["googlenet_bn2"]
    assert [w.name for w in renamed.weights] == ["googlenet_bn2.tv_in1k"]


def test_a_name_twice_and_weights_of_a_foreign_release_are_refused():
    with pytest.raises(SpecError, match="'googlenet' is registered twice"):
        build_registry((*FAMILIES, (_member("googlenet"),)))
    foreign = _member().weights[0]
    with pytest.raises(SpecError, match="weights 'in1k' are a file of a release"):
        ModelInfo(GOOGLENET, "x", "y", min_input_size=31, num_params=1, weights=(foreign,))
