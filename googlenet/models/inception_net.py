"""One model class for every architecture described by a :class:`NetSpec`.

Reading order: ``forward`` = ``forward_head(forward_features(x))``, always logits, in
train and eval mode alike. The auxiliary classifiers run only in ``forward_train``, which
returns a small typed structure; their loss weight (the paper's 0.3) lives in the loss.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from ..errors import InputSizeError, SpecError
from ..layers import AuxHead, Embedding, InceptionV3Aux
from ..specs.types import AuxSpec, NetSpec
from .builder import build_features, conv_factory
from .features import NamedFeatures, Tap, run_features
from .grid import grid_error


@dataclass
class InceptionOutputs:
    """What ``forward_train`` returns: the main logits and the aux logits by head name."""

    logits: torch.Tensor
    aux: dict[str, torch.Tensor] = field(default_factory=dict)


class InceptionNet(NamedFeatures, nn.Module):
    """A network of the Inception family built from its spec rows.

    Top-level module names are the rows' names (``conv1``, ``inception_3a``, ``aux_4a``,
    ``fc``), so state-dict keys read like the paper. ``row_modules`` maps every row to the
    modules it made, head rows included. Named features (``forward_intermediates``,
    block branches such as ``inception_3a.branch_3x3``) come from :class:`NamedFeatures`.
    """

    # Head module names (state-dict keys), read by the weight key maps and cost tables.
    CLASSIFIER, GLOBAL_POOL, DROPOUT, EMBEDDING = "fc", "global_pool", "dropout", "embedding"

    def __init__(
        self,
        spec: NetSpec,
        *,
        num_classes: int | None = None,
        in_chans: int | None = None,
        aux_logits: bool = True,
        min_input_size: int = 1,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.in_chans = in_chans or spec.in_chans
        self.num_classes = spec.num_classes if num_classes is None else num_classes
        self.min_input_size = min_input_size
        self._grid_errors: dict[tuple[int, int, str | None], str] = {}
        layout = build_features(spec, self.in_chans)
        for name, module in layout.modules:
            self.add_module(name, module)
        self.feature_names = tuple(name for name, _ in layout.modules)
        self.feature_aliases = spec.feature_aliases
        self.model_name = spec.name
        self.row_modules = dict(layout.row_modules)
        self.feature_channels = layout.channels
        self.num_features = layout.out_channels
        self._build_head(spec)
        self.aux_after: dict[str, str] = {}
        if aux_logits and self.num_classes > 0:  # no classifier, no auxiliary classifiers
            for aux in spec.aux:
                self.add_module(aux.name, self._aux_head(spec, aux, layout.channels[aux.after]))
                self.aux_after[aux.name] = aux.after

    # -- construction -------------------------------------------------------------------
    def _build_head(self, spec: NetSpec) -> None:
        types = [r.type for r in spec.rows if r.is_head]
        self.flatten_head = "flatten" in types
        if self.flatten_head:
            # The course network flattens a fixed 4x4 map: measure its size once.
            with torch.no_grad():
                probe = torch.zeros(1, self.in_chans, spec.input_size, spec.input_size)
                in_features = self._features(probe, ())[0].numel()
            self.global_pool: nn.Module = nn.Flatten(1)
        else:
            in_features = self.num_features
            self.global_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
        self.dropout = nn.Dropout(spec.dropout)
        # FaceNet's embedding between dropout and the classifier (the classifier reads it).
        self.embedding: Embedding | None = None
        for row in (r for r in spec.rows if r.type == "embedding"):
            if row.features is None:
                raise SpecError(f"row {row.name}: an embedding row needs its features")
            self.embedding = Embedding(in_features, row.features,
                                       bn_eps=spec.bn_eps)
            in_features = self.embedding.out_features
        self.head_in_features = in_features
        self.fc = _classifier(in_features, self.num_classes)
        by_type = {"global_avg_pool": self.GLOBAL_POOL, "flatten": self.GLOBAL_POOL,
                   "dropout": self.DROPOUT, "embedding": self.EMBEDDING,
                   "linear": self.CLASSIFIER}
        for row in spec.rows:  # softmax has no module: the model returns logits
            if row.is_head:
                self.row_modules[row.name] = [by_type[row.type]] if row.type in by_type else []

    def _aux_head(self, spec: NetSpec, aux: AuxSpec, channels: int) -> nn.Module:
        if aux.kind == "inception_v3":
            return InceptionV3Aux(channels, self.num_classes, conv=conv_factory(spec))
        return AuxHead(
            channels, self.num_classes, conv=conv_factory(spec), adaptive=aux.adaptive_pool,
            conv_channels=spec.scaled(128), fc_features=spec.scaled(1024),
            dropout=spec.aux_dropout,
        )

    # -- forward ------------------------------------------------------------------------
    def check_input(self, x: torch.Tensor) -> None:
        """Raise :class:`InputSizeError` for a tensor this model cannot take."""
        name = self.spec.name
        if x.dim() != 4:
            raise InputSizeError(f"{name}: expected a 4-d NCHW batch, got shape "
                                 f"{tuple(x.shape)}")
        if x.shape[1] != self.in_chans:
            raise InputSizeError(f"{name}: expected {self.in_chans} input channels, got "
                                 f"{x.shape[1]} (shape {tuple(x.shape)})")
        h, w = x.shape[-2], x.shape[-1]
        if self.spec.fixed_input_size and (h, w) != (self.spec.input_size,) * 2:
            size = self.spec.input_size
            raise InputSizeError(f"{name}: takes exactly {size}x{size} inputs, got {h}x{w}")
        if h < self.min_input_size or w < self.min_input_size:
            m = self.min_input_size
            raise InputSizeError(f"{name}: input {h}x{w} is below the minimum {m}x{m}")
        if not torch.compiler.is_compiling():  # a traced graph was checked when run eagerly
            self.check_grid(int(h), int(w))

    @property
    def fixed_input_size(self) -> bool:
        """True when the network takes one input size only (its head flattens a map)."""
        return self.spec.fixed_input_size

    def check_grid(self, height: int, width: int, upto: str | None = None) -> None:
        """Raise :class:`InputSizeError` when a ``height`` x ``width`` input cannot go
        through the feature modules (up to module ``upto``), as BN-Inception's stride-2
        modules cannot on odd grids (:mod:`googlenet.models.grid`); cached per size."""
        key = (height, width, upto)
        if key not in self._grid_errors:
            row = next((r for r, mods in self.row_modules.items() if upto in mods), None)
            self._grid_errors[key] = grid_error(self.spec, height, width, row)
        error = self._grid_errors[key]
        if error:
            raise InputSizeError(error)

    def _features(
        self, x: torch.Tensor, collect: Iterable[str]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Run the feature modules in order, keeping the outputs of the modules named in
        ``collect``."""
        return run_features(self._modules_in_order(), x, {n: Tap(n) for n in collect})

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map, before global pooling (N, num_features, h, w)."""
        self.check_input(x)
        return self._features(x, ())[0]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global pool, dropout (an embedding, if the spec has one) and the classifier;
        ``pre_logits`` stops before ``fc``."""
        x = self.dropout(self.global_pool(x))
        if self.embedding is not None:
            x = self.embedding(x)
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, in train and eval mode alike."""
        return self.forward_head(self.forward_features(x))

    def forward_train(self, x: torch.Tensor) -> InceptionOutputs:
        """Logits plus every auxiliary head's logits (training only needs these)."""
        self.check_input(x)
        feats, collected = self._features(x, self.aux_after.values())
        aux = {name: getattr(self, name)(collected[after])
               for name, after in self.aux_after.items()}
        return InceptionOutputs(self.forward_head(feats), aux)

    # -- named features (see models/features.py) ------------------------------------------
    def feature_module(self, name: str) -> nn.Module:
        """The feature module called ``name``."""
        module: nn.Module = getattr(self, name)
        return module

    def logits_from_features(self, feats: torch.Tensor) -> torch.Tensor:
        """``forward_head``: what ``forward_with_features`` ends with."""
        return self.forward_head(feats)

    # -- heads ----------------------------------------------------------------------------
    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier (and the aux classifiers) for ``num_classes`` classes."""
        self.num_classes = num_classes
        self.fc = _classifier(self.head_in_features, num_classes)
        if num_classes == 0:
            for name in list(self.aux_after):
                delattr(self, name)
            self.aux_after = {}
        for name in self.aux_after:
            head = getattr(self, name)  # every aux head kind names its last layer classifier
            head.classifier = nn.Linear(head.classifier.in_features, num_classes)

    def get_classifier(self) -> nn.Module:
        """The final linear layer (an identity when the model has no classifier)."""
        return self.fc


def _classifier(in_features: int, num_classes: int) -> nn.Module:
    """The final linear layer; ``num_classes=0`` (a backbone, timm's convention) leaves it
    out, so ``forward`` returns the pooled features."""
    if num_classes < 0:
        raise SpecError(f"num_classes must be >= 0, got {num_classes}")
    return nn.Linear(in_features, num_classes) if num_classes else nn.Identity()
