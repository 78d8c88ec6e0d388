"""Inside each block, on one image: which scale did the network use?

For every block of a model (any family: the branches come from the block's table), each
branch gets

- what it costs: its share of the block's output channels, multiply-adds and parameters
  (measured on the built modules, :func:`googlenet.cost.measure`);
- what it did on this image: its share of the block's *activation energy* (the sum of
  squares of its output, which the block concatenates), and its strongest channels'
  maps, strongest first;
- the scale it looks at: its receptive field on the block input, and in image pixels.

A branch whose energy share is well above its channel share carried more of the block's
response than its width alone would give it: on this image, the block used that scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..cost import BranchCost, branch_costs, measure
from ..models.features import BRANCH_SEP, NamedFeatures
from .anatomy import Field, branch_scale, in_pixels, receptive_fields


@dataclass
class BranchView:
    """One branch of one block on one image."""

    name: str
    ops: str
    scale: Field  # receptive field on the block input
    pixels: Field  # the same in input pixels
    channels: int
    params: int
    macs: int
    energy: float
    top_channels: list[int] = field(default_factory=list)
    maps: torch.Tensor | None = None  # (k, h, w): the top channels' maps


@dataclass
class BlockView:
    """One block on one image: its branches, and its residual projection's cost if any."""

    name: str
    label: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    branches: list[BranchView]
    projection: BranchCost | None = None

    def feature(self, branch: BranchView) -> str:
        """The branch's feature name, valid in ``forward_intermediates``."""
        return f"{self.name}{BRANCH_SEP}{branch.name}"

    def shares(self, what: str) -> list[float]:
        """Each branch's share of ``channels``, ``macs``, ``params`` or ``energy``."""
        values = [float(getattr(b, what)) for b in self.branches]
        total = sum(values)
        return [v / total if total > 0 else 0.0 for v in values]

    @property
    def used(self) -> BranchView:
        """The branch with the largest share of the activation energy."""
        energy = self.shares("energy")
        return self.branches[energy.index(max(energy))]


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(t.shape[1:])


BlockCosts = dict[str, list[BranchCost]]
"""Block name -> its branches' (and residual projection's) measured costs."""


def block_costs(model: NamedFeatures, size: tuple[int, int], in_chans: int) -> BlockCosts:
    """Every block's branch costs for an input of ``size``: one meta-device pass, the same
    for every image of that size."""
    assert isinstance(model, torch.nn.Module)
    measured = measure(model, size, in_chans)
    return {name: branch_costs(block, measured) for name, block in model.blocks()}


@torch.no_grad()
def analyse_blocks(model: NamedFeatures, x: torch.Tensor, top: int = 8,
                   costs: BlockCosts | None = None) -> tuple[list[BlockView], torch.Tensor]:
    """Every block of ``model`` on the normalised image ``x`` (1, C, H, W): costs (from
    ``costs``, measured here when not given), shares, energies and the ``top`` strongest
    channels of each branch; and the logits of the same forward pass."""
    assert isinstance(model, torch.nn.Module)
    blocks = model.blocks()
    before = {b: model.feature_names[model.feature_names.index(b) - 1]
              if model.feature_names.index(b) else "" for b, _ in blocks}
    names = [f"{b}{BRANCH_SEP}{br.name}" for b, m in blocks for br in m.spec.branches]
    names += [b for b, _ in blocks] + [n for n in before.values() if n]
    was = model.training
    model.eval()
    try:
        logits, feats = model.forward_with_features(x, names)
    finally:
        model.train(was)
    costs = costs or block_costs(model, (x.shape[-2], x.shape[-1]), x.shape[1])
    fields = receptive_fields(model)
    views = []
    for name, block in blocks:
        field_in = fields[before[name]] if before[name] else Field()
        branch_views = []
        for i, (branch, cost) in enumerate(zip(block.spec.branches, costs[name],
                                               strict=False)):
            y = feats[f"{name}{BRANCH_SEP}{branch.name}"][0].float()
            per_channel = (y * y).sum((1, 2))
            order = per_channel.argsort(descending=True)[:top]
            scale = branch_scale(block, i)
            branch_views.append(BranchView(
                branch.name, cost.ops, scale, in_pixels(scale, field_in), int(y.shape[0]),
                cost.params, cost.macs, float(per_channel.sum()), order.tolist(), y[order]))
        in_shape = _shape(feats[before[name]]) if before[name] else _shape(x)
        views.append(BlockView(name, block.spec.label or "block", in_shape,
                               _shape(feats[name]), branch_views,
                               costs[name][-1] if block.spec.residual is not None else None))
    return views, logits
