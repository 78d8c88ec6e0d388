"""Benchmark: each 3x3 layer the `winograd` path gives the kernel, against oneDNN's direct
convolution (what `fused` runs), with the layer's real input in the network.

The model is built as the `winograd` path builds it (BN folded, conv+ReLU fused, the
3x3 units on :class:`~googlenet.deploy.winograd.WinogradConv2d`); one forward pass
records each such layer's input. Then, per layer, the kernel (``conv3x3``) and the
module's direct convolution run interleaved ``--calls`` times; the figure is the least
CPU time of the calling thread (``time.thread_time``: time another process held the
core is not counted) at ``--threads 1``, or the median wall time with more threads.

    PYTHONPATH=. python benchmarks/winograd_layers.py --model googlenet_bn --batch 32
    GOOGLENET_NATIVE_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2 PYTHONPATH=. \\
        python benchmarks/winograd_layers.py --out benchmarks/results/winograd_layers_avx2.json

Writes JSON with a row per layer and the totals; BENCHMARKS.md ("The `winograd` path",
the AVX2 build) gives the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import torch

from googlenet.deploy import native
from googlenet.deploy.fuse import fuse_for_inference
from googlenet.deploy.optimize import to_channels_last
from googlenet.deploy.winograd import WinogradConv2d, conv3x3, use_winograd
from googlenet.models import create_model, get_model_info


def _time(fn: Callable[[], object], wall: bool) -> float:
    clock = time.perf_counter if wall else time.thread_time
    start = clock()
    fn()
    return (clock() - start) * 1e3


def measure(model_name: str, batch: int, calls: int, threads: int) -> list[dict[str, object]]:
    """One row per kernel layer: its shape and the two times in ms."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = create_model(model_name, aux_logits=False).eval()
    size = get_model_info(model_name).input_size
    x = torch.randn(batch, model.in_chans, size, size)
    fused = to_channels_last(fuse_for_inference(model, x[:2], "eager"))  # as the path builds it
    use_winograd(fused)
    layers = [m for m in fused.modules() if isinstance(m, WinogradConv2d)]
    inputs: dict[int, torch.Tensor] = {}
    hooks = [m.register_forward_pre_hook(
        lambda mod, args, i=i: inputs.__setitem__(i, args[0].detach().clone(
            memory_format=torch.channels_last)))
        for i, m in enumerate(layers)]
    with torch.no_grad():
        fused(x.contiguous(memory_format=torch.channels_last))
    for h in hooks:
        h.remove()
    wall = threads > 1
    rows: list[dict[str, object]] = []
    with torch.no_grad():
        for i, m in enumerate(layers):
            a = inputs[i]
            bias = m.conv.bias.detach() if m.conv.bias is not None else None
            kernel = partial(conv3x3, a, m.current_transformed(), bias, m.padding, m.relu)
            direct = partial(m.direct, a)
            kernel(), direct()  # warm up
            k_ms, d_ms = [], []
            for _ in range(calls):
                k_ms.append(_time(kernel, wall))
                d_ms.append(_time(direct, wall))
            pick = statistics.median if wall else min
            n, c, h, w = a.shape
            rows.append({"layer": f"{h}x{w}, {c} -> {m.conv.out_channels}",
                         "direct_ms": pick(d_ms), "kernel_ms": pick(k_ms)})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="googlenet_bn")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--calls", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="benchmarks/results/winograd_layers.json")
    args = p.parse_args(argv)
    if native.unavailable_reason() is not None:
        print(f"the kernels cannot run here: {native.unavailable_reason()}", file=sys.stderr)
        return 2
    rows = measure(args.model, args.batch, args.calls, args.threads)
    total_d = sum(float(r["direct_ms"]) for r in rows)  # type: ignore[arg-type]
    total_k = sum(float(r["kernel_ms"]) for r in rows)  # type: ignore[arg-type]
    for r in rows:
        print(f"{r['layer']:>20}  direct {r['direct_ms']:7.1f} ms  kernel {r['kernel_ms']:7.1f} ms")
    print(f"{'all ' + str(len(rows)):>20}  direct {total_d:7.1f} ms  kernel {total_k:7.1f} ms "
          f"({total_d / total_k:.2f}x)")
    out = {"benchmark": "winograd_layers", "command": " ".join(["python", *sys.argv]),
           "model": args.model, "batch": args.batch, "threads": args.threads,
           "calls": args.calls, "kernels": native.isa(),
           "onednn_max_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
           "load_average": os.getloadavg(), "rows": rows,
           "total_direct_ms": total_d, "total_kernel_ms": total_k}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
