"""DeepDream: change an image so that a layer of the network responds more strongly.

Mordvintsev, Olah & Tyka, "Inceptionism: Going Deeper into Neural Networks" (Google
Research blog, 2015), the classic GoogLeNet demo: gradient ascent on the image, in pixel
space, of the mean square of a layer's activations (or of one channel's mean activation:
what that unit looks for), with

- octaves: the image is dreamt small first, then larger, each octave starting from the
  previous one's detail, so patterns appear at several scales;
- jitter: the image is shifted by a random offset before each step (and back after), so
  the patterns do not lock to the network's stride grid;
- normalised steps: each step moves by ``step_size`` times the gradient over its mean
  magnitude, the same size whatever the layer's scale.

Pixels stay 0..255 floats throughout; the weights' own preprocessing turns them into the
model's input, so a Caffe (BGR, 0..255) and a torchvision network dream alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from ..errors import UsageError
from ..models.features import NamedFeatures
from ..models.network import as_network
from ..weights import Preprocessing
from .gradcam import evaluating


@dataclass(frozen=True)
class DreamSettings:
    """How to dream: ``octaves`` scales ``octave_scale`` apart, ``steps`` per octave of
    ``step_size`` (pixels, 0..255) each, jitter up to ``jitter`` pixels, seeded."""

    octaves: int = 4
    octave_scale: float = 1.4
    steps: int = 10
    step_size: float = 1.5
    jitter: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        # Written so that NaN fails each test (NaN <= 0 is false, so it passed before).
        if not (self.octaves >= 1 and self.steps >= 1 and self.octave_scale >= 1
                and math.isfinite(self.step_size) and self.step_size > 0
                and math.isfinite(self.octave_scale) and self.jitter >= 0):
            raise UsageError(f"dream needs octaves >= 1, steps >= 1, a finite octave "
                             f"scale >= 1, a finite positive step and jitter >= 0, "
                             f"got {self}")


@dataclass
class Dream:
    """A dream: the final image, each octave's result, and the objective at every step."""

    layer: str
    channel: int | None
    image: torch.Tensor  # uint8 (C, H, W)
    octaves: list[torch.Tensor] = field(default_factory=list)
    objective: list[list[float]] = field(default_factory=list)  # per octave, per step


def noise_image(channels: int, size: int, seed: int = 0) -> torch.Tensor:
    """A grey uint8 (C, size, size) image with a little noise: where a unit's dream
    starts when no image is given."""
    gen = torch.Generator().manual_seed(seed)
    noise = 128 + 20 * torch.randn(channels, size, size, generator=gen)
    return noise.round().clamp(0, 255).to(torch.uint8)


def octave_sizes(size: int, settings: DreamSettings, smallest: int) -> list[int]:
    """The side of each octave, smallest first, none below ``smallest``."""
    sizes = [round(size / settings.octave_scale ** k) for k in range(settings.octaves)]
    return sorted({s for s in sizes if s >= smallest} | {size})


def objective(acts: torch.Tensor, channel: int | None) -> torch.Tensor:
    """What the dream raises: the mean square of the activations, or one channel's mean."""
    return acts.pow(2).mean() if channel is None else acts[:, channel].mean()


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x[None], size=(size, size), mode="bilinear", align_corners=False)[0]


def _step(model: NamedFeatures, pre: Preprocessing, pixels: torch.Tensor, layer: str,
          channel: int | None, settings: DreamSettings, gen: torch.Generator) -> float:
    """One jittered, normalised ascent step on ``pixels`` (in place); returns the
    objective before it."""
    dy, dx = (int(v) for v in torch.randint(-settings.jitter, settings.jitter + 1, (2,),
                                            generator=gen))
    shifted = pixels.roll((dy, dx), (1, 2)).requires_grad_(True)
    acts = model.forward_intermediates(pre.normalize(shifted[None]), [layer])[layer]
    value = objective(acts, channel)
    (grad,) = torch.autograd.grad(value, shifted)
    grad = grad.roll((-dy, -dx), (1, 2))
    pixels += settings.step_size * grad / (grad.abs().mean() + 1e-8)
    pixels.clamp_(0, 255)
    return float(value.detach())


def deep_dream(model: NamedFeatures, pre: Preprocessing, start: torch.Tensor, layer: str,
               channel: int | None = None, settings: DreamSettings | None = None) -> Dream:
    """Dream on the uint8 image ``start`` (C, H, W, square) at feature ``layer`` (a block,
    a branch, any named feature), raising one ``channel`` or the whole layer."""
    settings = settings or DreamSettings()
    width = layer_width(model, layer)
    if channel is not None and not 0 <= channel < width:
        raise UsageError(f"{layer} has channels 0..{width - 1}, not {channel}")
    size = start.shape[-1]
    net = as_network(model)
    # A network that takes one input size only dreams at that size (one octave).
    smallest = size if net.fixed_input_size else max(net.min_input_size, 1)
    gen = torch.Generator().manual_seed(settings.seed)
    base = start.float()
    detail = torch.zeros(0)
    dream = Dream(layer, channel, start)
    assert isinstance(model, torch.nn.Module)
    with evaluating(model), torch.enable_grad():
        for side in octave_sizes(size, settings, smallest):
            here = _resize(base, side)
            pixels = here + (_resize(detail, side) if detail.numel() else 0)
            values = [_step(model, pre, pixels, layer, channel, settings, gen)
                      for _ in range(settings.steps)]
            dream.objective.append(values)
            dream.octaves.append(pixels.round().to(torch.uint8))
            detail = pixels - here
    dream.image = dream.octaves[-1]
    return dream


def layer_objective(model: NamedFeatures, pre: Preprocessing, image: torch.Tensor,
                    layer: str, channel: int | None = None) -> float:
    """The dream's objective on a uint8 image: how strongly ``layer`` responds to it."""
    assert isinstance(model, torch.nn.Module)
    with evaluating(model), torch.no_grad():
        acts = model.forward_intermediates(pre.normalize(image[None].float()), [layer])[layer]
    return float(objective(acts, channel))


def layer_width(model: NamedFeatures, layer: str) -> int:
    """The channel count of the feature ``layer`` (checked: a typo is a one-line error)."""
    tap = model.resolve_tap(layer)
    if tap.branch is None:
        return model.feature_channels[tap.module]
    return model.branch_info()[f"{tap.module}.{layer.partition('.')[2]}"]
