"""Session-cached Keras InceptionV3 weight files (building the model takes seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class KerasFiles:
    model: Any  # keras.Model with top
    keras2_notop: Path  # like inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5
    keras2_top: Path
    keras3_legacy_top: Path  # Keras 3 legacy_h5_format writer
    keras3_weights: Path  # Keras 3 model.save_weights("*.weights.h5")


@pytest.fixture(scope="session")
def keras_files(tmp_path_factory: pytest.TempPathFactory) -> KerasFiles:
    pytest.importorskip("h5py")
    from tests.weights import keras_helpers as kh

    try:
        kh.import_keras()
    except ImportError as exc:  # keras missing, or no usable backend
        pytest.skip(f"Keras 3 with the torch backend is not available: {exc}")
    model = kh.build_inception_v3()
    out = tmp_path_factory.mktemp("keras")
    files = KerasFiles(
        model=model,
        keras2_notop=out / "inception_v3_notop.h5",
        keras2_top=out / "inception_v3_top.h5",
        keras3_legacy_top=out / "inception_v3_k3.h5",
        keras3_weights=out / "inception_v3.weights.h5",
    )
    kh.write_keras2_style_h5(kh.notop(model), files.keras2_notop)
    kh.write_keras2_style_h5(model, files.keras2_top)
    kh.write_keras3_legacy_h5(model, files.keras3_legacy_top)
    model.save_weights(files.keras3_weights)
    return files
