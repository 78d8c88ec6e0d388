"""The packaged ImageNet-1k label files."""

from __future__ import annotations

from googlenet.weights.imagenet import imagenet_class_names, imagenet_synsets


def test_class_names_well_known_indices() -> None:
    names = imagenet_class_names()
    assert len(names) == 1000
    # Sanity facts shared by torchvision, Keras and Caffe label files.
    assert names[0] == "tench"
    assert names[1] == "goldfish"
    assert names[2] == "great white shark"
    assert names[409] == "analog clock"
    assert names[999] == "toilet tissue"
    # Only "crane" and "maillot" appear twice (two different synsets each).
    assert len(set(names)) == 998


def test_synsets_sorted_wnids() -> None:
    wnids = imagenet_synsets()
    assert len(wnids) == 1000
    assert wnids[0] == "n01440764"
    assert wnids == sorted(wnids)
    assert len(set(wnids)) == 1000
    assert all(w.startswith("n") and len(w) == 9 for w in wnids)


def test_returns_fresh_lists() -> None:
    names = imagenet_class_names()
    names.clear()
    assert len(imagenet_class_names()) == 1000
