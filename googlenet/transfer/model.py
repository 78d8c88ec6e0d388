"""A pretrained backbone cut at a named feature, plus a new head: transfer learning.

This is the Keras recipe of the tutorials (seed 004) as one module::

    InceptionV3(include_top=False) up to 'mixed7'      -> self.features (frozen)
    Flatten -> Dense(1024, relu) -> Dropout -> Dense(1)  -> self.head

Frozen blocks stay in inference mode even while the head trains: their batch norms use
the pretrained running statistics (and do not update them), as Keras does for layers with
``trainable = False``. :meth:`unfreeze` opens the last blocks for a second, gentler phase.

One return type, as for every model here: ``model(x)`` returns logits. The binary head
(``head="binary"``) has a single sigmoid unit; it returns the 2-class logits ``[0, z]``,
whose softmax is ``[1 - sigmoid(z), sigmoid(z)]`` and whose cross-entropy equals Keras'
binary cross-entropy on ``sigmoid(z)``, so training, evaluation and top-k need no special
case.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from torch import nn

from googlenet.errors import InputSizeError, WeightsError
from googlenet.models.inception_net import InceptionNet, InceptionOutputs

HEADS = ("classes", "binary")
POOLS = ("flatten", "avg")


@dataclass(frozen=True)
class HeadOptions:
    """The new head on the cut: ``head`` "classes" (softmax) or "binary" (one sigmoid
    unit), ``pool`` "flatten" (Keras recipe) or "avg" (global average), ``hidden`` Dense
    units before the classifier (0: none), ``dropout`` before the classifier."""

    head: Literal["classes", "binary"] = "classes"
    pool: Literal["flatten", "avg"] = "flatten"
    hidden: int = 1024
    dropout: float = 0.2

    @classmethod
    def of(cls, head: HeadOptions | str) -> HeadOptions:
        """``head`` itself, or the default options of the head kind it names."""
        return head if isinstance(head, HeadOptions) else cls(head=head)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TransferConfig:
    """Everything that rebuilds a :class:`TransferModel` (stored in weights metadata).

    ``hidden=0`` leaves the hidden Dense layer out (a plain linear classifier).
    ``input_size`` matters for ``pool="flatten"``: the flattened size depends on it.
    """

    backbone: str
    cut: str
    num_classes: int
    head: Literal["classes", "binary"] = "classes"
    pool: Literal["flatten", "avg"] = "flatten"
    hidden: int = 1024
    dropout: float = 0.2
    input_size: int = 224
    backbone_kwargs: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.head not in HEADS or self.pool not in POOLS:
            raise WeightsError(f"head must be one of {HEADS} and pool one of {POOLS}, got "
                               f"{self.head!r}, {self.pool!r}")
        if self.head == "binary" and self.num_classes != 2:
            raise WeightsError(f"a binary head needs exactly 2 classes, got {self.num_classes}")
        if self.num_classes < 1 or self.hidden < 0 or not 0 <= self.dropout < 1:
            raise WeightsError(f"bad head settings: num_classes={self.num_classes}, "
                               f"hidden={self.hidden}, dropout={self.dropout}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        d = asdict(self)
        d["backbone_kwargs"] = dict(self.backbone_kwargs or {})
        return d


def _head(cfg: TransferConfig, channels: int, spatial: int) -> nn.Sequential:
    layers: list[tuple[str, nn.Module]] = []
    if cfg.pool == "avg":
        layers.append(("pool", nn.AdaptiveAvgPool2d(1)))
        in_features = channels
    else:
        in_features = channels * spatial
    layers.append(("flatten", nn.Flatten(1)))
    if cfg.hidden:
        layers += [("fc1", nn.Linear(in_features, cfg.hidden)), ("relu", nn.ReLU(inplace=True))]
        in_features = cfg.hidden
    layers.append(("dropout", nn.Dropout(cfg.dropout)))
    out = 1 if cfg.head == "binary" else cfg.num_classes
    classifier = nn.Linear(in_features, out)
    # Zero init: the head starts at uniform probabilities, and for a balanced batch its
    # first gradient is the difference of the class means of its input, whatever the
    # (large, all-positive after ReLU) common part of the backbone features. A random init
    # puts that common part into the logits and makes the first steps overshoot.
    nn.init.zeros_(classifier.weight)
    nn.init.zeros_(classifier.bias)
    layers.append(("classifier", classifier))
    return nn.Sequential(OrderedDict(layers))


class TransferModel(nn.Module):
    """``backbone`` up to the feature ``cfg.cut``, then a new head.

    ``features`` keeps the backbone's module names (``features.mixed7...``), so imported
    weights load by the same keys with a ``features.`` prefix.
    """

    def __init__(self, backbone: InceptionNet, cfg: TransferConfig) -> None:
        super().__init__()
        self.config = cfg
        self.cut = backbone.resolve_feature(cfg.cut)
        names = backbone.feature_names[: backbone.feature_names.index(self.cut) + 1]
        self.features = nn.Sequential(OrderedDict((n, getattr(backbone, n)) for n in names))
        self.in_chans = backbone.in_chans
        self.min_input_size = backbone.min_input_size
        self.input_size = cfg.input_size
        with torch.no_grad():
            probe = self.features.eval()(torch.zeros(1, self.in_chans, cfg.input_size,
                                                     cfg.input_size))
        self.feature_shape = tuple(probe.shape[1:])
        channels, h, w = self.feature_shape
        self.head = _head(cfg, channels, h * w)
        self.num_classes = cfg.num_classes
        self.frozen: set[str] = set()

    # -- freezing -----------------------------------------------------------------------
    def freeze_backbone(self) -> None:
        """Stop gradients into every backbone block and keep them in inference mode."""
        self._set_frozen(list(self.features._modules), True)

    def unfreeze(self, names: Iterable[str]) -> list[str]:
        """Let the named blocks train again (e.g. ``mixed9``); returns the module names.
        Unknown names, or blocks after the cut, raise with the valid choices."""
        valid = list(self.features._modules)
        picked = []
        for name in names:
            if name not in valid:
                raise InputSizeError(f"cannot unfreeze {name!r}: the model cut at "
                                     f"{self.cut} has blocks {', '.join(valid)}")
            picked.append(name)
        self._set_frozen(picked, False)
        return picked

    def _set_frozen(self, names: list[str], frozen: bool) -> None:
        for name in names:
            for p in self.features._modules[name].parameters():  # type: ignore[union-attr]
                p.requires_grad_(not frozen)
            (self.frozen.add if frozen else self.frozen.discard)(name)
        self.train(self.training)

    def train(self, mode: bool = True) -> TransferModel:
        """Like ``nn.Module.train``, but frozen blocks (their BN) stay in eval mode."""
        super().train(mode)
        for name in self.frozen:
            self.features._modules[name].eval()  # type: ignore[union-attr]
        return self

    # -- forward ------------------------------------------------------------------------
    def check_input(self, x: torch.Tensor) -> None:
        """A flatten head takes exactly the input size it was built for."""
        if x.dim() != 4 or x.shape[1] != self.in_chans:
            raise InputSizeError(f"expected a (N, {self.in_chans}, H, W) batch, got "
                                 f"{tuple(x.shape)}")
        size = self.input_size
        if self.config.pool == "flatten" and tuple(x.shape[-2:]) != (size, size):
            raise InputSizeError(f"this transfer model flattens {self.cut}'s map and takes "
                                 f"exactly {size}x{size} inputs, got "
                                 f"{x.shape[-2]}x{x.shape[-1]}")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's map at the cut."""
        self.check_input(x)
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, num_classes); see the module docstring for the binary head."""
        z = self.head(self.forward_features(x))
        if self.config.head == "binary":
            return torch.cat([torch.zeros_like(z), z], 1)
        return z

    def forward_train(self, x: torch.Tensor) -> InceptionOutputs:
        """The trainer's interface: logits and no auxiliary heads."""
        return InceptionOutputs(self(x))

    def checkpoint_meta(self) -> dict[str, Any]:
        """What the trainer stores so that a checkpoint can rebuild this model."""
        return {"transfer": self.config.to_dict()}

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters that get gradients now (the head plus any unfrozen blocks)."""
        return [p for p in self.parameters() if p.requires_grad]
