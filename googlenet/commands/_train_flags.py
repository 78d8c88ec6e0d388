"""The ``TrainConfig`` command line: one ``--flag`` per config field and per recipe part,
shared by ``googlenet train`` and ``googlenet finetune``.

The fields' help texts and ranges live on :class:`~googlenet.train.TrainConfig` itself
(its ``field`` metadata); this module only turns them into argparse flags and back.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import ConfigError, SpecError
from ..recipe import HEADS, POOLS, ModelRecipe, Recipe, RecipeError, TransferRecipe
from ..train.config import TrainConfig


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _optional(kind: type) -> Any:
    def parse(text: str) -> Any:
        return None if text.lower() == "none" else kind(text)
    parse.__name__ = kind.__name__
    return parse


_TYPES: dict[str, Any] = {
    "str": str, "int": int, "float": float, "bool": _parse_bool,
    "str | None": _optional(str), "int | None": _optional(int),
    "float | None": _optional(float),
}


@dataclass(frozen=True)
class _RecipeFlag:
    dest: str
    kind: str
    help: str
    choices: tuple[str, ...] | None = None


# The recipe's flags: --model/--width/--dropout/--aux-logits build a ModelRecipe; --cut
# turns it into the backbone of a TransferRecipe that the other flags describe.
RECIPE_FLAGS = (
    _RecipeFlag("model", "str", "registered model name, or the backbone to fine-tune "
                "(googlenet list)"),
    _RecipeFlag("width", "float | None", "channel width multiplier (small-input models)"),
    _RecipeFlag("dropout", "float | None", "dropout before the classifier (default: the "
                "model's; with --cut: the head's)"),
    _RecipeFlag("aux_logits", "bool", "train the auxiliary heads (if the model has any)"),
    _RecipeFlag("cut", "str | None", "fine-tune: cut the backbone after this feature (e.g. "
                "mixed7, inception_4e) and train a new head on it"),
    _RecipeFlag("head", "str", "fine-tune: classes (softmax) or binary (one sigmoid unit)",
                HEADS),
    _RecipeFlag("pool", "str", "fine-tune: avg (global average pooling) or flatten (the "
                "Keras recipe; large heads on early cuts)", POOLS),
    _RecipeFlag("hidden", "int", "fine-tune: hidden Dense units before the classifier "
                "(0: none)"),
    _RecipeFlag("input_size", "int | None", "fine-tune at this input size (default: the "
                "weights')"),
    _RecipeFlag("unfreeze", "str", "fine-tune: comma-separated backbone blocks that "
                "--unfreeze-epochs trains too, e.g. mixed6,mixed7"),
)
_TRANSFER_ONLY = ("head", "pool", "hidden", "input_size", "unfreeze")


def _recipe_defaults(recipe: Recipe) -> dict[str, Any]:
    """What each recipe flag is when not given, for ``--help``."""
    transfer = recipe if isinstance(recipe, TransferRecipe) else None
    model = transfer.backbone if transfer else recipe
    assert isinstance(model, ModelRecipe)
    plain = TransferRecipe(model, cut="")
    t = transfer or plain
    return {"model": model.name, "width": model.width,
            "dropout": transfer.dropout if transfer else model.dropout,
            "aux_logits": model.aux_logits, "cut": transfer.cut if transfer else None,
            "head": t.head, "pool": t.pool, "hidden": t.hidden, "input_size": t.input_size,
            "unfreeze": ",".join(t.unfreeze)}


def _add_flag(parser: argparse.ArgumentParser, dest: str, kind: str, help_text: str,
              default: Any, choices: tuple[str, ...] | None = None) -> None:
    flag = "--" + dest.replace("_", "-")
    # A help text that says its own default (a search, a derived value) keeps only that.
    shown = help_text if "(default:" in help_text else f"{help_text} (default: {default})"
    text = shown.replace("%", "%%")
    kw: dict[str, Any] = {"default": argparse.SUPPRESS, "dest": dest, "help": text}
    parse = _TYPES[kind]
    if parse is _parse_bool:
        # --hflip alone means true; --hflip false also works.
        kw.update(nargs="?", const=True, type=_parse_bool, metavar="BOOL")
    else:
        kw["type"] = parse
        if choices:
            kw["choices"] = choices
    parser.add_argument(flag, **kw)


def add_config_flags(parser: argparse.ArgumentParser, base: TrainConfig | None = None,
                     shown: dict[str, str] | None = None) -> None:
    """One ``--flag`` per :class:`TrainConfig` field and per recipe part; a flag not given
    leaves no attribute (``SUPPRESS``), so only flags the user gave override a loaded
    config. ``--help`` shows ``base``'s values (default: :class:`TrainConfig`'s), or the
    text in ``shown`` for a flag whose default is not a value."""
    base = base or TrainConfig()
    defaults = {**_recipe_defaults(base.recipe), **(shown or {})}
    for r in RECIPE_FLAGS:
        _add_flag(parser, r.dest, r.kind, r.help, defaults[r.dest], r.choices)
    for f in fields(TrainConfig):
        if f.name != "recipe":
            _add_flag(parser, f.name, str(f.type), f.metadata["help"], getattr(base, f.name),
                      f.metadata.get("choices"))


def apply_recipe_flags(recipe: Recipe, given: dict[str, Any]) -> Recipe:
    """``recipe`` with the recipe flags in ``given`` applied (see :data:`RECIPE_FLAGS`)."""
    transfer = recipe if isinstance(recipe, TransferRecipe) else None
    model = transfer.backbone if transfer else recipe
    assert isinstance(model, ModelRecipe)
    changes = {k: given[k] for k in ("width", "aux_logits") if k in given}
    if "model" in given and given["model"] != model.name:
        model = ModelRecipe(given["model"])  # another model: its own defaults
    model = replace(model, **changes)
    cut = given.get("cut", transfer.cut if transfer else None)
    if not cut:
        extra = [k for k in _TRANSFER_ONLY if k in given]
        if extra:
            raise ConfigError(f"--{extra[0].replace('_', '-')} describes a fine-tuning head; "
                              "give --cut too")
        return replace(model, dropout=given.get("dropout", model.dropout))
    head: dict[str, Any] = {k: given[k] for k in ("head", "pool", "hidden", "input_size",
                                                  "dropout") if k in given}
    if "unfreeze" in given:
        head["unfreeze"] = tuple(n.strip() for n in given["unfreeze"].split(",") if n.strip())
    start = transfer or TransferRecipe(model, cut)
    # The backbone runs up to the cut only: its auxiliary heads are never built.
    return replace(start, backbone=replace(model, aux_logits=False), cut=cut, **head)


def config_from_args(args: argparse.Namespace, base: TrainConfig | None = None) -> TrainConfig:
    """``base`` (or the defaults) with every flag the user gave applied."""
    base = base or TrainConfig()
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig)
             if f.name != "recipe" and hasattr(args, f.name)}
    recipe_given = {r.dest: getattr(args, r.dest) for r in RECIPE_FLAGS
                    if hasattr(args, r.dest)}
    try:
        recipe = apply_recipe_flags(base.recipe, recipe_given)
        return base.replace(recipe=recipe, **given)
    except RecipeError as err:  # a recipe flag out of range: name the flag
        if err.field not in recipe_given:
            raise ConfigError(str(err)) from None
        flag = "--" + err.field.replace("_", "-")
        raise ConfigError(f"{flag} {err.problem}", field=err.field, problem=err.problem,
                          ) from None
    except SpecError as err:
        raise ConfigError(str(err)) from None
    except ConfigError as err:
        if err.field not in given:
            raise
        flag = "--" + err.field.replace("_", "-")
        raise ConfigError(f"{flag} {err.problem}", field=err.field, problem=err.problem,
                          ) from None
