"""One data set sample as a PNG file: how ``explain`` and ``dream`` take ``--dataset NAME
--index N`` (a student's IDX files are not images a viewer opens)."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from googlenet.atomic import atomic_path
from googlenet.data.registry import build_dataset
from googlenet.errors import DataError, OutputError


def write_sample_png(name: str, index: int, folder: str | os.PathLike[str],
                     split: str = "test", root: str | os.PathLike[str] | None = None,
                     ) -> tuple[Path, str]:
    """Write item ``index`` of the data set ``name`` (its ``split``, found as
    :func:`~googlenet.data.build_dataset` finds it from ``root``) as
    ``folder/NAME-SPLIT-INDEX.png``; returns the path and the item's class name. An index
    outside the split is a :class:`DataError` that says the range."""
    dataset = build_dataset(name, split, root)
    count = len(dataset)  # type: ignore[arg-type]  # every data set here has a length
    if not 0 <= index < count:
        raise DataError(f"--index {index}: {name} ({split}) has {count:,} images, "
                        f"0..{count - 1}")
    image, label = dataset[index]
    pixels = image.permute(1, 2, 0).numpy()
    picture = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    dest = Path(folder)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{dest}: cannot make the output folder ({err.strerror})") from None
    path = dest / f"{name}-{split}-{index}.png"
    with atomic_path(path) as tmp:
        picture.save(tmp, format="PNG")
    classes: list[str] = getattr(dataset, "classes", [])
    return path, classes[label] if 0 <= label < len(classes) else str(label)
