"""What was built: one typed value for every model the package makes.

A recipe is either a registry model with its ``create_model`` arguments
(:class:`ModelRecipe`) or a pretrained backbone cut at a named feature with a new head
(:class:`TransferRecipe`). The same value is held by :class:`~googlenet.train.TrainConfig`,
written to a run's ``config.json``, and recorded in every checkpoint and every weights
file's metadata; :func:`googlenet.models.build_model` is the one function that turns it
into a module. Pure data at the bottom of the package (see ARCHITECTURE.md).

>>> from googlenet.recipe import ModelRecipe, TransferRecipe
>>> from googlenet.models import build_model
>>> model = build_model(ModelRecipe("googlenet_cifar", num_classes=10, width=0.25))
>>> tr = TransferRecipe(ModelRecipe("inception_v3", aux_logits=False), cut="mixed7",
...                     num_classes=2, input_size=150)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, TypedDict

from googlenet.errors import SpecError


class RecipeError(SpecError):
    """A recipe field outside its range; ``field`` and ``problem`` let the CLI name the
    flag that set it (``--dropout must be ...``)."""

    def __init__(self, owner: str, field: str, problem: str) -> None:
        super().__init__(f"{owner}: {field} {problem}")
        self.field = field
        self.problem = problem


def _require(ok: bool, owner: str, field: str, problem: str) -> None:
    if not ok:
        raise RecipeError(owner, field, problem)


# The largest fine-tuning input size: ten times the family's largest native size (299),
# where a typo (100000) would have every image resized to tens of gigabytes.
MAX_INPUT_SIZE = 2048

HEADS = ("classes", "binary")
POOLS = ("avg", "flatten")
Head = Literal["classes", "binary"]
Pool = Literal["avg", "flatten"]


class ModelArgs(TypedDict, total=False):
    """The arguments of :func:`googlenet.models.create_model` beside the name: the fields
    of :class:`ModelRecipe` (``googlenet.create_model`` passes them on as they are)."""

    num_classes: int | None
    in_chans: int | None
    aux_logits: bool
    width: float | None
    dropout: float | None


@dataclass(frozen=True)
class ModelRecipe:
    """A registered model and the arguments of :func:`googlenet.create_model`.

    ``num_classes`` / ``in_chans`` None mean the registry's (or, in a training config,
    what the dataset has: the trainer fills them in before building); ``num_classes=0``
    is a backbone without a classifier (a Keras "notop" file).
    """

    name: str
    num_classes: int | None = None
    in_chans: int | None = None
    aux_logits: bool = True
    width: float | None = None
    dropout: float | None = None

    def __post_init__(self) -> None:
        n, w, d = self.num_classes, self.width, self.dropout
        _require(n is None or n >= 0, self.name, "num_classes",
                 f"must be >= 0 (0: no classifier), got {n}")
        _require(self.in_chans in (None, 1, 3), self.name, "in_chans",
                 f"must be 1 or 3, got {self.in_chans}")
        _require(w is None or w > 0, self.name, "width", f"must be > 0, got {w}")
        _require(d is None or 0 <= d < 1, self.name, "dropout",
                 f"must be >= 0 and < 1, got {d}")

    @property
    def model_name(self) -> str:
        """The registry name (for a transfer recipe, its backbone's)."""
        return self.name

    def kwargs(self) -> dict[str, Any]:
        """The ``create_model`` keyword arguments (registry defaults left out)."""
        out: dict[str, Any] = {"aux_logits": self.aux_logits}
        for key in ("num_classes", "in_chans", "width", "dropout"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def with_data(self, num_classes: int, in_chans: int) -> ModelRecipe:
        """The recipe for a dataset with ``num_classes`` classes of ``in_chans`` channels."""
        return replace(self, num_classes=num_classes, in_chans=in_chans)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with ``"kind": "model"``."""
        return {"kind": "model", **asdict(self)}

    def describe(self) -> str:
        """One line for messages: ``googlenet_cifar(num_classes=10, width=0.25)``."""
        args = ", ".join(f"{k}={v}" for k, v in self.kwargs().items()
                         if not (k == "aux_logits" and v))
        return f"{self.name}({args})"


@dataclass(frozen=True)
class TransferRecipe:
    """``backbone`` cut after the feature ``cut``, then a new head.

    The head: global average pooling (``pool="avg"``, the default: a small head whatever
    the cut) or the Keras recipe's flatten, ``hidden`` units of Dense + ReLU (0: none),
    dropout, and a classifier: "classes" (softmax) or "binary" (one sigmoid unit).
    ``input_size`` is the training size (a flatten head only takes that size).
    ``unfreeze`` names the backbone blocks a second training phase opens (see
    :class:`~googlenet.train.TrainConfig`'s ``unfreeze_epochs``); the backbone is
    otherwise frozen, BN statistics included.
    """

    backbone: ModelRecipe
    cut: str
    num_classes: int | None = None
    head: Head = "classes"
    pool: Pool = "avg"
    hidden: int = 0
    dropout: float = 0.2
    input_size: int | None = None
    unfreeze: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        owner = f"{self.backbone.name} cut at {self.cut}"
        _require(self.head in HEADS, owner, "head",
                 f"must be one of {', '.join(HEADS)}, got {self.head!r}")
        _require(self.pool in POOLS, owner, "pool",
                 f"must be one of {', '.join(POOLS)}, got {self.pool!r}")
        if self.head == "binary" and self.num_classes not in (None, 2):
            raise SpecError(f"a binary head needs exactly 2 classes, got {self.num_classes}")
        _require(self.num_classes is None or self.num_classes >= 1, owner, "num_classes",
                 f"must be >= 1, got {self.num_classes}")
        _require(self.hidden >= 0, owner, "hidden", f"must be >= 0, got {self.hidden}")
        _require(0 <= self.dropout < 1, owner, "dropout",
                 f"must be >= 0 and < 1, got {self.dropout}")
        _require(self.input_size is None or 1 <= self.input_size <= MAX_INPUT_SIZE, owner,
                 "input_size", f"must be >= 1 and <= {MAX_INPUT_SIZE}, got {self.input_size}")
        object.__setattr__(self, "unfreeze", tuple(self.unfreeze))

    @property
    def model_name(self) -> str:
        """The backbone's registry name."""
        return self.backbone.name

    def with_data(self, num_classes: int, in_chans: int) -> TransferRecipe:
        """The recipe for a dataset with ``num_classes`` classes (the backbone keeps its
        channels: pretrained weights fix them)."""
        return replace(self, num_classes=num_classes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with ``"kind": "transfer"``."""
        d = asdict(self)
        d["backbone"] = self.backbone.to_dict()
        d["unfreeze"] = list(self.unfreeze)
        return {"kind": "transfer", **d}

    def describe(self) -> str:
        """One line for messages."""
        hidden = f", hidden {self.hidden}" if self.hidden else ""
        return (f"{self.backbone.describe()} cut at {self.cut}, {self.head} head "
                f"({self.pool} pool{hidden}), {self.num_classes} classes")


Recipe = ModelRecipe | TransferRecipe


def recipe_from_dict(data: Mapping[str, Any], source: str = "recipe") -> Recipe:
    """Parse :meth:`ModelRecipe.to_dict` / :meth:`TransferRecipe.to_dict` output; a bad
    value is a one-line :class:`SpecError` naming ``source``."""
    try:
        fields = {k: v for k, v in data.items() if k != "kind"}
        kind = data.get("kind", "model")
        if kind == "model":
            return ModelRecipe(**fields)
        if kind == "transfer":
            fields["backbone"] = recipe_from_dict(fields["backbone"], source)
            if not isinstance(fields["backbone"], ModelRecipe):
                raise SpecError("a transfer backbone must be a registry model")
            fields["unfreeze"] = tuple(fields.get("unfreeze", ()))
            return TransferRecipe(**fields)
        raise SpecError(f"unknown recipe kind {kind!r}")
    except (TypeError, KeyError, AttributeError, SpecError) as err:
        raise SpecError(f"{source}: not a valid model recipe ({err})") from None
