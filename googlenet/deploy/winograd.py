"""Winograd F(4x4, 3x3) convolutions for the ``winograd`` inference path (fp32, CPU).

Two thirds of googlenet_bn's multiply-adds are 3x3 stride-1 convolutions. oneDNN runs
them directly; F(4x4, 3x3) needs a quarter of the multiplies (36 per 4x4 output tile
and channel pair instead of 144). The kernel is ``kernels/winograd_f43.c``, compiled at
install and loaded by :mod:`googlenet.deploy.native` (AVX-512 or AVX2); why it does the
matrix products itself is said at the top of the C file.

Accuracy: the transforms' rounding error is bounded per output channel against a direct
convolution in ``tests/deploy/test_winograd.py``, which also checks whole networks.
"""

from __future__ import annotations

import torch
from torch import nn

from ..layers import ConvNormAct
from . import native
from .fuse import OneDNNConvReLU

BLOCK_BYTES = 640 * 1024
"""What a block of tiles may take in transformed input and products (36 x tiles x
(C + K) floats): about half of a core's L2 (1 MB here) so that the block stays there
through all three stages; over it GoogLeNet's widest 3x3s ran much slower (BENCHMARKS.md,
the winograd section)."""

MIN_TILE_USE = 0.375
"""The least share of a batch's 4x4 output tiles that must fall inside the output map.
Full tiles do a quarter of the direct convolution's multiplies; a 2x2 map uses 4 of a
tile's 16 outputs and so does as many as direct convolution, plus the transforms, and a
1x1 map four times as many. At 0.375 Winograd still saves a third of the multiplies
(3x3 maps use 0.56, 5x5 0.39, 7x7 0.77, 14x14 0.77)."""

LEAST_REGISTER_BLOCKS: dict[str, int] = {"avx512": 1, "avx2": 4}
"""The fewest register blocks in a block of tiles that :func:`conv3x3` runs, by the
loaded kernels' instruction set, whatever :data:`BLOCK_BYTES` says. The products read
each column strip of the transformed weights (C x 2 vectors, from L2 or L3) once per
block and reuse it from L1 for every register block in it. AVX2's strips are half as
wide as AVX-512's, so each read feeds half the multiply-adds: with one register block a
block (GoogLeNet's widest 3x3s) the AVX2 kernel waited on the weights, and four ran
faster on every 3x3 layer of googlenet_bn though they overflow L2 (BENCHMARKS.md, the
winograd section, AVX2)."""

DEFAULT_ROWS = 8
"""The register block of the AVX-512 build, for :func:`tile_block` when no library is
loaded."""


def tile_rows() -> int:
    """Tiles per register block of the loaded kernel's products (8 for AVX-512, 6 for
    AVX2), or :data:`DEFAULT_ROWS`."""
    return native.kernels().rows if native.unavailable_reason() is None else DEFAULT_ROWS


def tile_block(c: int, k: int, rows: int | None = None) -> int:
    """Tiles per block for ``c`` input and ``k`` output channels: a multiple of the
    kernel's register block (``rows``, default :func:`tile_rows`) from one to four of
    them, within :data:`BLOCK_BYTES`."""
    rows = rows or tile_rows()
    fit = BLOCK_BYTES // (36 * 4 * (c + k))
    return max(rows, min(4 * rows, fit // rows * rows))


def run_block(c: int, k: int, tiles: int, threads: int) -> int:
    """The block of tiles :func:`conv3x3` runs: :func:`tile_block`, raised to
    :data:`LEAST_REGISTER_BLOCKS` for the loaded kernels, but no larger than a thread's
    share of the ``tiles`` (rounded up to a register block)."""
    rows = tile_rows()
    isa = native.isa()
    least = rows * LEAST_REGISTER_BLOCKS.get(isa, 1) if isa else rows
    share = -(-tiles // max(1, threads))
    return max(tile_block(c, k, rows), min(least, -(-share // rows) * rows))


# G, the weight transform of F(4x4, 3x3) (Lavin & Gray, 2015), for U = G g G^T.
_G = ((1 / 4, 0, 0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6),
      (1 / 24, 1 / 12, 1 / 6), (1 / 24, -1 / 12, 1 / 6), (0, 0, 1))


def supports(conv: nn.Conv2d) -> bool:
    """Whether the kernel computes ``conv``: 3x3, stride 1, no dilation, one group, zero
    padding of 0 or 1 on every side, output channels a multiple of 16."""
    return (conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.dilation == (1, 1)
            and conv.groups == 1 and conv.padding in ((0, 0), (1, 1))
            and conv.padding_mode == "zeros" and conv.out_channels % 16 == 0)


@torch.no_grad()
def transform_weights(weight: torch.Tensor) -> torch.Tensor:
    """G g G^T for every (output, input) channel pair of a [K, C, 3, 3] weight, laid out
    [36, C, K] as the kernel reads it (computed in float64, stored as float32)."""
    g = torch.tensor(_G, dtype=torch.float64, device="cpu")
    u = torch.einsum("ai,kcij,bj->abck", g, weight.double().cpu(), g)
    return u.reshape(36, weight.shape[1], weight.shape[0]).float().contiguous()


def conv3x3(x: torch.Tensor, transformed: torch.Tensor, bias: torch.Tensor | None,
            padding: int, relu: bool, threads: int | None = None) -> torch.Tensor:
    """A 3x3 stride-1 convolution of the fp32 CPU batch ``x`` (NCHW shape, any memory
    format) with weights from :func:`transform_weights`; returns channels_last float32.

    Raises ValueError for what the kernel cannot read: ``x`` not a float32 CPU batch,
    weights that do not fit it or are not contiguous float32, a bias not of length K."""
    native.check_batch(x, "conv3x3 input")
    n, c, h, w = x.shape
    k = transformed.shape[2] if transformed.dim() == 3 else -1
    if transformed.shape != (36, c, k) or k % 16:
        raise ValueError(f"Winograd weights {tuple(transformed.shape)} do not fit input "
                         f"{tuple(x.shape)} (need [36, {c}, K], K a multiple of 16)")
    native.check_operand(transformed, "Winograd weights", (36, c, k))
    if bias is not None:
        bias = bias.detach().contiguous()  # kept alive through the call
        native.check_operand(bias, "conv3x3 bias", (k,))
    if padding not in (0, 1):
        raise ValueError(f"conv3x3: padding {padding}; the kernel pads by 0 or 1")
    oh, ow = h + 2 * padding - 2, w + 2 * padding - 2
    if oh < 1 or ow < 1:
        raise ValueError(f"conv3x3: a {h}x{w} input with padding {padding} has no output")
    lib = native.library()
    x = native.as_pixel_major(x)
    y = native.output((n, k, oh, ow))
    tiles = _tiles(n, h, w, padding)
    threads = threads or torch.get_num_threads()
    block = run_block(c, k, tiles, threads)
    threads = max(1, min(threads, -(-tiles // block)))
    work = torch.empty(threads * lib.winograd_work_floats(c, k, block), dtype=torch.float32,
                       device="cpu")
    lib.winograd_f43(x.data_ptr(), transformed.data_ptr(),
                     bias.data_ptr() if bias is not None else None, y.data_ptr(),
                     work.data_ptr(), n, h, w, c, k, padding, int(relu), x.stride(3), k,
                     block, threads)
    return y


def worth_it(n: int, c: int, k: int, h: int, w: int, padding: int, threads: int) -> bool:
    """Whether the kernel should take a layer: only when the output map fills enough of
    its tiles (:data:`MIN_TILE_USE`: never a 1x1 or 2x2 map) and every thread gets a
    whole block of tiles. Below that (a 7x7 map at batch 1 is 4 tiles) the threads idle
    and oneDNN's direct convolution wins (BENCHMARKS.md, the winograd section)."""
    oh, ow = h + 2 * padding - 2, w + 2 * padding - 2
    tiles = _tiles(n, h, w, padding)
    if oh < 1 or ow < 1 or oh * ow * n < MIN_TILE_USE * 16 * tiles:
        return False
    return tiles >= threads * tile_block(c, k)


def _tiles(n: int, h: int, w: int, padding: int) -> int:
    """The 4x4 output tiles of a batch: partial tiles at the bottom and right count."""
    return n * -(-(h + 2 * padding - 2) // 4) * -(-(w + 2 * padding - 2) // 4)


class WinogradConv2d(nn.Module):
    """``conv(x)``, or ``relu(conv(x))``, by :func:`conv3x3` for fp32 CPU inference.

    Elsewhere (autograd, CUDA, other dtypes, tracers), and for maps too small to share
    between the threads (:func:`worth_it`), it runs the convolution it was made from.
    """

    transformed: torch.Tensor

    def __init__(self, conv: nn.Conv2d, relu: bool) -> None:
        super().__init__()
        if not supports(conv):
            raise ValueError(f"the Winograd kernel cannot compute {conv}")
        self.conv = conv
        self.relu = relu
        self.padding = int(conv.padding[0])
        self.register_buffer("transformed", transform_weights(conv.weight), persistent=False)
        self._transformed_from = self._weight_key()
        self.direct: nn.Module = OneDNNConvReLU(conv) if relu else conv

    def _weight_key(self) -> tuple[int, int]:
        # load_state_dict and in-place updates bump the version; a new tensor (.to(),
        # assigning a Parameter) has another address.
        w = self.conv.weight
        return w.data_ptr(), w._version

    def current_transformed(self) -> torch.Tensor:
        """:attr:`transformed`, recomputed first if the weight changed since (after
        ``load_state_dict``, say), so that the kernel never runs old weights."""
        key = self._weight_key()
        if key != self._transformed_from or self.transformed.device.type != "cpu":
            self.transformed = transform_weights(self.conv.weight)
            self._transformed_from = key
        return self.transformed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.conv
        if not native.runs_natively(x, c.weight):
            out: torch.Tensor = c(x)
            return torch.relu(out) if self.relu else out
        n, channels, h, w = x.shape
        if not worth_it(n, channels, c.out_channels, h, w, self.padding, torch.get_num_threads()):
            direct: torch.Tensor = self.direct(x)
            return direct
        bias = c.bias.detach() if c.bias is not None else None
        return conv3x3(x, self.current_transformed(), bias, self.padding, self.relu)


def use_winograd(model: nn.Module) -> int:
    """Run every 3x3 convolution of ``model``'s BN-folded units (after
    :func:`~googlenet.deploy.fuse.fuse_for_inference`) that the kernel supports through
    it, in place; returns how many it replaced."""
    replaced = 0
    for m in model.modules():
        if not isinstance(m, ConvNormAct) or m.bn is not None:
            continue
        if isinstance(m.conv, OneDNNConvReLU) and supports(m.conv.conv):
            m.conv = WinogradConv2d(m.conv.conv, relu=True)  # type: ignore[assignment]  # ConvNormAct only calls its conv
        elif isinstance(m.conv, nn.Conv2d) and m.act is None and supports(m.conv):
            m.conv = WinogradConv2d(m.conv, relu=False)  # type: ignore[assignment]  # as above
        else:
            continue
        replaced += 1
    return replaced
