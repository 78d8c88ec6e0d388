"""Session-cached Keras InceptionV3 and InceptionResNetV2 weight files (building a model
takes seconds, writing its files a few more)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# InceptionResNetV2's parity runs at this size: its 8x8 stage is 3x3 there, so the
# padding of its 1x3 / 3x1 convolutions is exercised, at a tenth of 299x299's cost.
IRV2_SIZE = 139


@dataclass(frozen=True)
class KerasFiles:
    model: Any  # keras.Model with top
    keras2_notop: Path  # like inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5
    keras2_top: Path
    keras3_legacy_top: Path | None  # Keras 3 legacy_h5_format writer
    keras3_weights: Path  # Keras 3 model.save_weights("*.weights.h5")
    keras3_weights_notop: Path


def _write(model: Any, out: Path, stem: str, last: str, keras3_legacy: bool) -> KerasFiles:
    from tests.weights import keras_helpers as kh

    files = KerasFiles(
        model=model,
        keras2_notop=out / f"{stem}_notop.h5",
        keras2_top=out / f"{stem}_top.h5",
        keras3_legacy_top=out / f"{stem}_k3.h5" if keras3_legacy else None,
        keras3_weights=out / f"{stem}.weights.h5",
        keras3_weights_notop=out / f"{stem}_notop.weights.h5",
    )
    kh.write_keras2_style_h5(kh.notop(model, last), files.keras2_notop)
    kh.write_keras2_style_h5(model, files.keras2_top)
    if files.keras3_legacy_top is not None:
        kh.write_keras3_legacy_h5(model, files.keras3_legacy_top)
    model.save_weights(files.keras3_weights)
    kh.notop(model, last).save_weights(files.keras3_weights_notop)
    return files


def _keras_or_skip() -> None:
    pytest.importorskip("h5py")
    from tests.weights import keras_helpers as kh

    try:
        kh.import_keras()
    except ImportError as exc:  # keras missing, or no usable backend
        pytest.skip(f"Keras 3 with the torch backend is not available: {exc}")


@pytest.fixture(scope="session")
def keras_files(tmp_path_factory: pytest.TempPathFactory) -> KerasFiles:
    _keras_or_skip()
    from tests.weights import keras_helpers as kh

    model = kh.build_inception_v3()
    return _write(model, tmp_path_factory.mktemp("keras"), "inception_v3", "mixed10",
                  keras3_legacy=True)


@pytest.fixture(scope="session")
def keras_irv2_files(tmp_path_factory: pytest.TempPathFactory) -> KerasFiles:
    """Keras' InceptionResNetV2 (weights=None, random BN statistics) at 139x139 with top,
    and its files (not Keras 3's legacy writer's: the Keras-2-style file has the same
    layout and order, and the InceptionV3 tests cover that writer)."""
    _keras_or_skip()
    from tests.weights import keras_helpers as kh

    model = kh.build_application("InceptionResNetV2", input_shape=(IRV2_SIZE, IRV2_SIZE, 3))
    return _write(model, tmp_path_factory.mktemp("keras_irv2"), "inception_resnet_v2",
                  "conv_7b_ac", keras3_legacy=False)
