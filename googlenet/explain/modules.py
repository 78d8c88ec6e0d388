"""A model as the rows a diagram or a page shows: each spec row's modules in words, its
output shape, its stage; and the auxiliary heads with the row they read.

Works for a registry model (:class:`~googlenet.models.InceptionNet`: one line per row of
its spec, Table 1's rows for GoogLeNet) and for a backbone cut with a new head
(:class:`~googlenet.transfer.TransferModel`: the backbone's rows up to the cut, then the
head). Shapes come from one meta-device pass (:func:`googlenet.cost.measure`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn
from torch.nn.modules.utils import _pair

from ..cost import measure
from ..layers import ConvNormAct, InceptionBlock
from ..models.inception_net import InceptionNet
from ..models.network import as_network
from ..specs.types import NetSpec


@dataclass(frozen=True)
class RowInfo:
    """One row: its name, its modules in words, its output shape (C, H, W) or (features,),
    and its kind (``stem``, ``pool``, ``block`` or ``head``)."""

    name: str
    text: str
    shape: tuple[int, ...]
    kind: str

    @property
    def size(self) -> str:
        return fmt_shape(self.shape)

    @property
    def stage(self) -> str:
        """The output resolution the row belongs to (``28x28``), or ``head``."""
        return f"{self.shape[1]}x{self.shape[2]}" if len(self.shape) == 3 else "head"


@dataclass(frozen=True)
class AuxInfo:
    """An auxiliary classifier: its name, the feature it reads, its modules in words."""

    name: str
    after: str
    text: str


def fmt_shape(shape: tuple[int, ...]) -> str:
    """``(192, 28, 28)`` -> ``28x28x192`` (the paper's order); ``(1000,)`` -> ``1000``."""
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return "x".join(map(str, shape))


def _kernel(kernel: object, stride: object) -> str:
    kh, kw = _pair(kernel)
    sh = _pair(stride)[0]
    return f"{kh}x{kw}" + (f"/{sh}" if sh != 1 else "")


def describe_module(module: nn.Module) -> str:
    """A module in a few words: ``3x3 conv 192``, ``3x3/2 max pool``, ``LRN``, ``FC 1000``."""
    if isinstance(module, ConvNormAct):
        module = module.conv
    if isinstance(module, nn.Conv2d):
        return f"{_kernel(module.kernel_size, module.stride)} conv {module.out_channels}"
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        kind = "max" if isinstance(module, nn.MaxPool2d) else "avg"
        return f"{_kernel(module.kernel_size, module.stride or module.kernel_size)} {kind} pool"
    if isinstance(module, nn.AdaptiveAvgPool2d):
        size = _pair(module.output_size)
        return "global avg pool" if size == (1, 1) else f"adaptive avg pool to {size[0]}x{size[1]}"
    if isinstance(module, InceptionBlock):
        return f"{module.spec.label or 'block'}: {len(module.spec.branches)} branches"
    if isinstance(module, nn.Sequential):
        return " > ".join(t for t in map(describe_module, module) if t)
    simple = {nn.LocalResponseNorm: "LRN", nn.ReLU: "ReLU", nn.Flatten: "flatten",
              nn.Identity: ""}
    for cls, text in simple.items():
        if isinstance(module, cls):
            return text
    if isinstance(module, nn.Dropout):
        return f"dropout {module.p:g}"
    if isinstance(module, nn.Linear):
        return f"FC {module.out_features}"
    # Anything else made of modules (an auxiliary head): its parts in the order it made them.
    parts = [t for t in map(describe_module, module.children()) if t]
    return " > ".join(parts) if parts else type(module).__name__


def _kind(row_type: str, modules: list[nn.Module], head: bool) -> str:
    if head:
        return "head"
    if any(isinstance(m, InceptionBlock) for m in modules):
        return "block"
    return "pool" if row_type.endswith("pool") else "stem"


def _rows(spec: NetSpec, row_modules: dict[str, list[str]],
          module: Callable[[str], nn.Module], shapes: dict[str, tuple[int, ...]],
          until_head: bool) -> list[RowInfo]:
    out: list[RowInfo] = []
    shape: tuple[int, ...] = ()
    for row in spec.rows:
        names = row_modules.get(row.name)
        if names is None or (until_head and row.is_head):
            continue
        mods = [module(n) for n in names]
        shape = next((shapes[n] for n in reversed(names) if n in shapes), shape)
        text = " > ".join(t for t in map(describe_module, mods) if t) or row.type
        out.append(RowInfo(row.name, text, shape, _kind(row.type, mods, row.is_head)))
    return out


def model_rows(model: nn.Module, input_size: int) -> tuple[list[RowInfo], list[AuxInfo]]:
    """The rows of ``model`` at ``input_size`` and its auxiliary heads."""
    net = as_network(model)
    chans = net.in_chans
    if isinstance(model, InceptionNet):
        shapes = measure(model, input_size, chans).shapes
        rows = _rows(model.spec, model.row_modules, model.get_submodule, shapes, False)
        aux = [AuxInfo(name, after, describe_module(getattr(model, name)))
               for name, after in model.aux_after.items()]
        return rows, aux
    # A backbone cut with a new head (TransferModel): the backbone's rows, then the head.
    features, head = model.get_submodule("features"), model.get_submodule("head")
    shapes = measure(features, input_size, chans).shapes
    row_modules: dict[str, list[str]] = getattr(model, "row_modules")  # noqa: B009
    rows = _rows(net.spec, row_modules, features.get_submodule, shapes, True)
    rows.append(RowInfo("head", "new head: " + describe_module(head), (net.num_classes,),
                        "head"))
    return rows, []
