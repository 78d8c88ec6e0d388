"""A pretrained backbone cut at a named feature, plus a new head: transfer learning.

The architecture is a :class:`~googlenet.recipe.TransferRecipe`. With ``pool="flatten",
hidden=1024`` it is the Keras recipe of the tutorials (seed 004)::

    InceptionV3(include_top=False) up to 'mixed7'      -> self.features (frozen)
    Flatten -> Dense(1024, relu) -> Dropout -> Dense(1)  -> self.head

The default head is smaller: global average pooling, dropout and one linear layer, which
fits any cut (a flattened ``inception_4e`` map would need 167M parameters for 1024 units).

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
from collections.abc import Iterable

import torch
from torch import nn

from googlenet.errors import InputSizeError, SpecError, UnknownFeatureError
from googlenet.models.features import NamedFeatures
from googlenet.models.grid import min_input_size
from googlenet.models.inception_net import InceptionNet, InceptionOutputs
from googlenet.models.registry import get_model_info
from googlenet.recipe import TransferRecipe


def _blocks_to_unfreeze(blocks: list[str], cut: str, names: Iterable[str]) -> list[str]:
    """``names`` if each is a block up to the cut; else a one-line error listing them."""
    for name in names:
        if name not in blocks:
            raise UnknownFeatureError(f"cannot unfreeze {name!r}: the model cut at {cut} has "
                                 f"blocks {', '.join(blocks)}")
    return list(names)


def check_transfer_names(recipe: TransferRecipe) -> None:
    """Check the cut and the blocks to unfreeze against the backbone's feature names
    without building its weights (a meta-device model): a typo fails before the data set
    is read and long before the second phase would have found it."""
    info = get_model_info(recipe.backbone.name)
    with torch.device("meta"):
        backbone = InceptionNet(info.spec, **{k: v for k, v in recipe.backbone.kwargs().items()
                                              if k in ("num_classes", "in_chans")},
                                aux_logits=False)
    cut = backbone.resolve_feature(recipe.cut)
    blocks = list(backbone.feature_names[: backbone.feature_names.index(cut) + 1])
    _blocks_to_unfreeze(blocks, cut, recipe.unfreeze)
    smallest = min_input_size(info.spec, cut)
    if recipe.input_size is not None and recipe.input_size < smallest:
        raise InputSizeError(f"--input-size {recipe.input_size}: {recipe.backbone.name} cut "
                             f"at {cut} takes at least {smallest}x{smallest} images")


def _head(recipe: TransferRecipe, num_classes: int, channels: int,
          spatial: int) -> nn.Sequential:
    layers: list[tuple[str, nn.Module]] = []
    if recipe.pool == "avg":
        layers.append(("pool", nn.AdaptiveAvgPool2d(1)))
        in_features = channels
    else:
        in_features = channels * spatial
    layers.append(("flatten", nn.Flatten(1)))
    if recipe.hidden:
        layers += [("fc1", nn.Linear(in_features, recipe.hidden)),
                   ("relu", nn.ReLU(inplace=True))]
        in_features = recipe.hidden
    layers.append(("dropout", nn.Dropout(recipe.dropout)))
    out = 1 if recipe.head == "binary" else num_classes
    classifier = nn.Linear(in_features, out)
    # Zero init: the head starts at uniform probabilities, and for a balanced batch its
    # first gradient is the difference of the class means of its input, whatever the
    # (large, all-positive after ReLU) common part of the backbone features. A random init
    # puts that common part into the logits and makes the first steps overshoot.
    nn.init.zeros_(classifier.weight)
    nn.init.zeros_(classifier.bias)
    layers.append(("classifier", classifier))
    return nn.Sequential(OrderedDict(layers))


class TransferModel(NamedFeatures, nn.Module):
    """``backbone`` up to the feature ``recipe.cut``, then a new head; backbone frozen.

    ``features`` keeps the backbone's module names (``features.mixed7...``), so imported
    weights load by the same keys with a ``features.`` prefix, and the backbone's named
    features up to the cut (its blocks' branches too) stay readable
    (:class:`NamedFeatures`). ``recipe.num_classes`` must be set; ``recipe.input_size``
    None means the backbone's own input size.
    """

    def __init__(self, backbone: InceptionNet, recipe: TransferRecipe) -> None:
        super().__init__()
        if recipe.num_classes is None:
            raise SpecError(f"{recipe.backbone.name} cut at {recipe.cut}: the recipe "
                            "needs num_classes")
        self.cut = backbone.resolve_feature(recipe.cut)
        names = backbone.feature_names[: backbone.feature_names.index(self.cut) + 1]
        self.features = nn.Sequential(OrderedDict((n, getattr(backbone, n)) for n in names))
        self.feature_names = tuple(names)
        self.feature_channels = {n: backbone.feature_channels[n] for n in names}
        self.feature_aliases = {a: t for a, t in backbone.spec.feature_aliases.items()
                                if t in self.feature_channels}
        self.model_name = f"{backbone.spec.name} cut at {self.cut}"
        # The architecture the backbone was built from (the network's spec, see
        # models.network.Network), and which of its rows made which of the modules kept
        # (for diagrams of the model).
        self.spec = backbone.spec
        self.row_modules = {row: mods for row, mods in backbone.row_modules.items()
                            if mods and all(m in self.feature_channels for m in mods)}
        self.in_chans = backbone.in_chans
        self.min_input_size = backbone.min_input_size
        self.input_size = recipe.input_size or backbone.spec.input_size
        if self.input_size < self.min_input_size:
            raise InputSizeError(f"input size {self.input_size} is below "
                                 f"{backbone.spec.name}'s minimum {self.min_input_size}")
        backbone.check_grid(self.input_size, self.input_size, upto=self.cut)
        self.recipe = recipe
        self.num_classes = recipe.num_classes
        with torch.no_grad():
            probe = self.features.eval()(torch.zeros(1, self.in_chans, self.input_size,
                                                     self.input_size))
        self.feature_shape = tuple(probe.shape[1:])
        channels, h, w = self.feature_shape
        self.head = _head(recipe, recipe.num_classes, channels, h * w)
        self.frozen: set[str] = set()
        self._check_block_names(recipe.unfreeze)
        self.freeze_backbone()

    @property
    def fixed_input_size(self) -> bool:
        """True for a head that flattens the map at the cut: one input size only."""
        return self.recipe.pool == "flatten"

    # -- freezing -----------------------------------------------------------------------
    def _check_block_names(self, names: Iterable[str]) -> list[str]:
        return _blocks_to_unfreeze(list(self.features._modules), self.cut, names)

    def freeze_backbone(self) -> None:
        """Stop gradients into every backbone block and keep them in inference mode."""
        self._set_frozen(list(self.features._modules), True)

    def unfreeze(self, names: Iterable[str] | None = None) -> list[str]:
        """Let the named blocks (default: the recipe's ``unfreeze``) train again; returns
        them. Unknown names, or blocks after the cut, raise with the valid choices."""
        picked = self._check_block_names(self.recipe.unfreeze if names is None else names)
        self._set_frozen(picked, False)
        return picked

    def _set_frozen(self, names: list[str], frozen: bool) -> None:
        for name in names:
            for p in self.features.get_submodule(name).parameters():
                p.requires_grad_(not frozen)
            (self.frozen.add if frozen else self.frozen.discard)(name)
        self.train(self.training)

    def train(self, mode: bool = True) -> TransferModel:
        """Like ``nn.Module.train``, but frozen blocks (their BN) stay in eval mode."""
        super().train(mode)
        for name in self.frozen:
            self.features.get_submodule(name).eval()
        return self

    # -- forward ------------------------------------------------------------------------
    def check_input(self, x: torch.Tensor) -> None:
        """A flatten head takes exactly the input size it was built for."""
        if x.dim() != 4 or x.shape[1] != self.in_chans:
            raise InputSizeError(f"expected a (N, {self.in_chans}, H, W) batch, got "
                                 f"{tuple(x.shape)}")
        size = self.input_size
        if self.recipe.pool == "flatten" and tuple(x.shape[-2:]) != (size, size):
            raise InputSizeError(f"this transfer model flattens {self.cut}'s map and takes "
                                 f"exactly {size}x{size} inputs, got "
                                 f"{x.shape[-2]}x{x.shape[-1]}")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's map at the cut."""
        self.check_input(x)
        out: torch.Tensor = self.features(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (N, num_classes); see the module docstring for the binary head."""
        return self.logits_from_features(self.forward_features(x))

    def feature_module(self, name: str) -> nn.Module:
        """The backbone module called ``name`` (up to the cut)."""
        return self.features.get_submodule(name)

    def logits_from_features(self, feats: torch.Tensor) -> torch.Tensor:
        """The new head on the map at the cut."""
        z: torch.Tensor = self.head(feats)
        if self.recipe.head == "binary":
            return torch.cat([torch.zeros_like(z), z], 1)
        return z

    def forward_train(self, x: torch.Tensor) -> InceptionOutputs:
        """The trainer's interface: logits and no auxiliary heads."""
        return InceptionOutputs(self(x))

    def trainable_parameters(self) -> list[nn.Parameter]:
        """Parameters that get gradients now (the head plus any unfrozen blocks)."""
        return [p for p in self.parameters() if p.requires_grad]
