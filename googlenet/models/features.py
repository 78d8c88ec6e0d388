"""Named features: what ``forward_intermediates`` and the explain tools can look at.

A feature is

- a feature module, by its row name (``inception_4e``, ``mixed7``, ``pool3``), or an
  alias of one (d2l's ``b3``, torchvision's ``Mixed_6e``);
- a branch of a block: ``<block>.<branch>`` (``inception_3a.branch_3x3``,
  ``mixed9.branch3x3dbl``), the branch's output before the block concatenates it.

Branch names come from each block's table (:class:`~googlenet.specs.blocks.BlockSpec`), so
every family has them without a list per family. :class:`NamedFeatures` gives a model
these names; :class:`~googlenet.models.InceptionNet` and
:class:`~googlenet.transfer.TransferModel` (a backbone cut at a feature) both use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..errors import UnknownFeatureError
from ..layers import InceptionBlock

BRANCH_SEP = "."
"""Between a block's name and its branch's name: ``inception_3a.branch_3x3``."""


@dataclass(frozen=True)
class Tap:
    """Where a named feature is read: the output of feature module ``module``, or of its
    branch number ``branch`` (a block's table order)."""

    module: str
    branch: int | None = None


def run_features(
    modules: Sequence[tuple[str, nn.Module]], x: torch.Tensor, taps: Mapping[str, Tap],
    stop_after: str | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run ``modules`` in order on ``x``, keeping the output each tap names.

    A block with a tapped branch runs as :meth:`InceptionBlock.forward_branches` then
    :meth:`InceptionBlock.join`, which is its forward split in two, so the result is the
    same as an untapped run. Stops after ``stop_after`` when given.
    """
    by_module: dict[str, list[tuple[str, Tap]]] = {}
    for key, tap in taps.items():
        by_module.setdefault(tap.module, []).append((key, tap))
    out: dict[str, torch.Tensor] = {}
    for name, module in modules:
        wanted = by_module.get(name, [])
        parts: list[torch.Tensor] = []
        if isinstance(module, InceptionBlock) and any(t.branch is not None for _, t in wanted):
            parts = module.forward_branches(x)
            y = module.join(x, parts)
        else:
            y = module(x)
        for key, tap in wanted:
            out[key] = y if tap.branch is None else parts[tap.branch]
        x = y
        if name == stop_after:
            break
    return x, out


class NamedFeatures:
    """Named features for a network of feature modules (a mixin for ``nn.Module``s).

    The class provides ``feature_names`` (feature modules in order), ``feature_channels``
    (their output widths), ``feature_aliases``, ``model_name`` (for messages),
    ``check_input``, ``feature_module(name)`` and ``logits_from_features(feats)``.
    """

    feature_names: tuple[str, ...]
    feature_channels: dict[str, int]
    feature_aliases: Mapping[str, str]
    model_name: str

    def check_input(self, x: torch.Tensor) -> None:
        raise NotImplementedError

    def feature_module(self, name: str) -> nn.Module:
        """The feature module called ``name`` (a resolved name, not an alias)."""
        raise NotImplementedError

    def logits_from_features(self, feats: torch.Tensor) -> torch.Tensor:
        """The head: the last feature map -> logits."""
        raise NotImplementedError

    # -- names ----------------------------------------------------------------------------
    def feature_info(self) -> dict[str, int]:
        """Named feature modules and their channel counts (aliases included)."""
        info = dict(self.feature_channels)
        for alias, target in self.feature_aliases.items():
            info[alias] = self.feature_channels[target]
        return info

    def blocks(self) -> list[tuple[str, InceptionBlock]]:
        """The blocks among the feature modules, in order, by name."""
        found = ((n, self.feature_module(n)) for n in self.feature_names)
        return [(n, m) for n, m in found if isinstance(m, InceptionBlock)]

    def branch_info(self) -> dict[str, int]:
        """Every block branch as ``<block>.<branch>`` and its channel count."""
        return {f"{name}{BRANCH_SEP}{b.name}": b.out_channels(block.in_channels)
                for name, block in self.blocks() for b in block.spec.branches}

    def resolve_feature(self, name: str) -> str:
        """The module name behind a feature name or alias; unknown names list the valid ones.

        Branch names are not modules (a backbone cannot be cut inside a block): see
        :meth:`resolve_tap` for every readable name."""
        target = self.feature_aliases.get(name, name)
        if target not in self.feature_channels:
            valid = ", ".join(self.feature_info())
            raise UnknownFeatureError(f"{self.model_name} has no feature {name!r}; valid: {valid}")
        return target

    def resolve_tap(self, name: str) -> Tap:
        """Where the feature ``name`` is read: a module (or alias), or ``<block>.<branch>``."""
        head, sep, branch = name.partition(BRANCH_SEP)
        if not sep:
            return Tap(self.resolve_feature(name))
        module = self.resolve_feature(head)
        block = self.feature_module(module)
        names = [b.name for b in block.spec.branches] if isinstance(block, InceptionBlock) else []
        if branch not in names:
            valid = ", ".join(f"{head}{BRANCH_SEP}{n}" for n in names) or "none: not a block"
            raise UnknownFeatureError(f"{self.model_name} has no branch {name!r}; branches of "
                                 f"{head}: {valid}")
        return Tap(module, names.index(branch))

    # -- forward --------------------------------------------------------------------------
    def _modules_in_order(self) -> list[tuple[str, nn.Module]]:
        return [(n, self.feature_module(n)) for n in self.feature_names]

    def forward_intermediates(
        self, x: torch.Tensor, names: Sequence[str]
    ) -> dict[str, torch.Tensor]:
        """The named features (``inception_4e``, ``b3``, ``inception_3a.branch_3x3``),
        computed up to the deepest one asked for."""
        self.check_input(x)
        taps = {n: self.resolve_tap(n) for n in names}
        deepest = max((t.module for t in taps.values()), key=self.feature_names.index)
        return run_features(self._modules_in_order(), x, taps, stop_after=deepest)[1]

    def forward_with_features(
        self, x: torch.Tensor, names: Iterable[str]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits and the named features from one pass, in one autograd graph: what
        gradient-based attributions (Grad-CAM) differentiate."""
        self.check_input(x)
        taps = {n: self.resolve_tap(n) for n in names}
        feats, out = run_features(self._modules_in_order(), x, taps)
        return self.logits_from_features(feats), out
