"""``googlenet list`` and ``googlenet info``: the registry and each model's metadata."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import WeightsError
from ..family import family_row, family_rows, render_markdown
from ..models import get_model_info, list_models
from ..weights import read_meta
from ..weights.sources import releases_for
from ._common import print_json


def _info_dict(name: str) -> dict[str, Any]:
    info = get_model_info(name)
    return {
        "name": info.name, "description": info.description, "paper": info.paper,
        "input_size": info.input_size, "min_input_size": info.min_input_size,
        "in_chans": info.in_chans, "num_classes": info.num_classes,
        "num_params": info.num_params, "num_params_with_aux": info.num_params_with_aux,
        "macs": family_row(name).macs,
        "aux_heads": [asdict(a) for a in info.spec.aux],
        "preprocessing": info.preprocessing.to_dict(),
        "pretrained": [{"source": r.source, "files": list(r.files), "note": r.note,
                        "preprocessing": r.preprocessing.to_dict()}
                       for r in releases_for(model=name)],
    }


def _file_dict(path: str) -> dict[str, Any]:
    meta = read_meta(path)
    known = get_model_info(meta.model)  # a file of an unknown model is refused, as predict does
    count = meta.recipe.num_classes
    out: dict[str, Any] = {"file": path, "recipe": meta.recipe.to_dict(),
                           "model": meta.recipe.describe(), "source": meta.source,
                           "num_classes": known.num_classes if count is None else count,
                           "headless": meta.headless,
                           "preprocessing": meta.preprocessing.to_dict()}
    if meta.training is not None:
        out["training"] = meta.training.to_dict()
    return out


def _run_list(args: argparse.Namespace) -> int:
    names = list_models(args.pattern)
    if args.markdown:
        print(render_markdown(family_rows(args.pattern)))
        return 0
    if args.json:
        print_json([_info_dict(n) for n in names])
        return 0
    width = max(len(n) for n in names) if names else 0
    for name in names:
        info = get_model_info(name)
        print(f"{name:<{width}}  {info.input_size:>3}px  {info.num_params / 1e6:6.2f}M  "
              f"{info.description}")
    return 0


def _run_info(args: argparse.Namespace) -> int:
    # A weights file describes itself; a name describes a fresh registry model.
    path = Path(args.model)
    if path.is_dir():
        raise WeightsError(f"{path}: is a directory; give a model name or a .safetensors file")
    if not path.exists() and (path.suffix == ".safetensors" or len(path.parts) > 1):
        raise WeightsError(f"{path}: no such weights file")
    data = _file_dict(args.model) if path.is_file() else _info_dict(args.model)
    if args.json:
        print_json(data)
    else:
        for key, value in data.items():
            print(f"{key:>20}: {value}")
    return 0


def register_list(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("list", help="list the registered models")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'googlenet*'")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="machine-readable output")
    out.add_argument("--markdown", action="store_true",
                     help="the family table: paper, params, MACs at the input size, input, "
                          "the weights that convert (the README's table)")
    p.set_defaults(func=_run_list)


def register_info(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("info", help="a model's or a weights file's metadata (sizes, "
                                    "preprocessing, params)")
    p.add_argument("model", help="a registered model name, or a .safetensors weights file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run_info)
