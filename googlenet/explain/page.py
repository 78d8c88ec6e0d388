"""``googlenet explain``: everything the page shows about a model and some images.

For each image: the crop the model sees, its top-k classes, Grad-CAM over the last block
and over any chosen features, integrated gradients, and every block's branches (what
they cost, which scale carried the response, their strongest maps). For the model: its
diagram and the paper's layer count. :mod:`googlenet.explain.html` lays it out as one
self-contained HTML file, and :func:`~googlenet.explain.html.write_explain_page` does
it all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import UsageError
from ..predict import read_image
from ..weights.loaded import LoadedModel
from .attributions import Attribution, integrated_gradients
from .branches import BlockCosts, BlockView, analyse_blocks
from .gradcam import Heatmap, grad_cam


@dataclass(frozen=True)
class ExplainOptions:
    """What the page computes: ``topk`` classes, Grad-CAM at the last block and at
    ``layers``, ``maps`` channels per branch, ``ig_steps`` integrated-gradient samples."""

    topk: int = 5
    layers: tuple[str, ...] = ()
    maps: int = 8
    ig_steps: int = 16

    def __post_init__(self) -> None:
        if self.topk < 1 or self.maps < 1 or self.ig_steps < 1:
            raise UsageError(f"--topk, --maps and --ig-steps must be >= 1, got "
                                 f"{self.topk}, {self.maps}, {self.ig_steps}")


@dataclass
class ImageExplained:
    """One image, explained."""

    path: Path
    image: torch.Tensor  # uint8 (C, S, S): the crop the model sees
    top: list[tuple[str, float]] = field(default_factory=list)
    cams: list[Heatmap] = field(default_factory=list)
    attribution: Attribution | None = None
    blocks: list[BlockView] = field(default_factory=list)


def cam_layers(subject: LoadedModel, options: ExplainOptions) -> list[str]:
    """The features Grad-CAM reads: the last block, then ``options.layers``, each checked
    (a typo is a one-line error before any work)."""
    blocks = subject.features.blocks()
    last = [blocks[-1][0]] if blocks else [subject.features.feature_names[-1]]
    for name in options.layers:
        subject.features.resolve_tap(name)
    return list(dict.fromkeys([*last, *options.layers]))


def explain_image(subject: LoadedModel, path: str | os.PathLike[str],
                  options: ExplainOptions, costs: BlockCosts | None = None) -> ImageExplained:
    """Everything the page shows for one image (``costs``: the blocks' measured costs,
    the same for every image, see :func:`~googlenet.explain.branches.block_costs`)."""
    image = read_image(path, subject.preprocessing, subject.in_chans)
    x = subject.normalize(image[None])
    out = ImageExplained(Path(path), image)
    out.blocks, logits = analyse_blocks(subject.features, x, options.maps, costs)
    if not subject.has_classifier:  # a backbone: no class to explain
        return out
    probs = logits.float().softmax(1)[0]
    k = min(options.topk, probs.numel())
    values, index = probs.topk(k)
    out.top = [(subject.classes[int(i)], float(p)) for p, i in zip(values, index, strict=True)]
    target = int(index[0])
    out.cams = [grad_cam(subject.features, x, layer, target)[0]
                for layer in cam_layers(subject, options)]
    # The baseline is a black image, preprocessed as any other image.
    baseline = subject.normalize(torch.zeros_like(image)[None])
    out.attribution = integrated_gradients(subject.network, x, baseline, target,
                                           steps=options.ig_steps)
    return out
