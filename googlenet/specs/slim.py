"""TF-slim's building vocabulary, shared by the families released from its code
(Inception v3, v4 and Inception-ResNet): its module names and its 'valid' reductions.

- :func:`slim_branch`: a branch's convolutions are ``<branch>_1``, ``<branch>_2`` ...
  (``<branch>`` alone when it has one), and the arms of a split take the next number with
  ``a`` / ``b`` (``branch3x3_2a``, ``branch3x3_2b``), so the block tables carry widths only;
- :func:`valid` and :data:`MAX_VALID`: the unpadded ("V" in the papers' figures) 3x3
  convolutions and max pools, stride 2 by default, that reduce the grid;
- :data:`AVG_SAME`: the 3x3/1 'same' average pool in front of a 1x1 projection (whether
  padded zeros count in the average is the network's choice,
  ``NetSpec.avg_pool_count_include_pad``).
"""

from __future__ import annotations

from dataclasses import replace

from .blocks import Branch, Conv, Op, Pool

AVG_SAME = Pool("avg", 3, 1)
MAX_VALID = Pool("max", 3, 2, padding=0)


def valid(out: int, stride: int = 2, kernel: int = 3) -> Conv:
    """An unpadded convolution with ``out`` channels (a grid reduction by default)."""
    return Conv(out, kernel, stride=stride, padding=0)


def slim_branch(name: str, *ops: Op, split: tuple[Conv, ...] = ()) -> Branch:
    """A branch with TF-slim's module names (see the module docstring)."""
    numbered = sum(isinstance(op, Conv) for op in ops) + bool(split) > 1
    named: list[Op] = []
    k = 0
    for op in ops:
        if isinstance(op, Conv):
            k += 1
            op = replace(op, name=f"{name}_{k}" if numbered else name)
        named.append(op)
    arms = tuple(replace(op, name=f"{name}_{k + 1}{'abcdefgh'[i]}") for i, op in enumerate(split))
    return Branch(name, tuple(named), arms)
