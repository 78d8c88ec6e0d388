"""Where the int8 and fused fp32 paths spend their time, and how far int8 moves the logits.

    PYTHONPATH=. python benchmarks/int8_anatomy.py --out benchmarks/results/int8_anatomy.json

For one model (googlenet_bn, random init, seed 0) at batch 32: each path's time by op
(``torch.profiler``, 3 calls after warm-up) and the convolutions' sustained rate; and,
for int8, the logits' distance (relative L2) between fp32, the quantized graph before
compiling, and the compiled graph. The numbers BENCHMARKS.md quotes for point 4.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from googlenet.cost import profile_model
from googlenet.deploy.fuse import fuse_for_inference
from googlenet.deploy.optimize import _cl, build_path, to_channels_last
from googlenet.deploy.quantize import _quantized_graph
from googlenet.models import create_model

CONV_OPS = ("qconv", "convolution")


def _by_op(runner: object, x: torch.Tensor, calls: int) -> dict[str, float]:
    """ms per call of each op (self CPU time)."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(calls):
            runner(x)  # type: ignore[operator]
    return {e.key: e.self_cpu_time_total / 1000 / calls for e in prof.key_averages()}


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="googlenet_bn")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--calls", type=int, default=3)
    p.add_argument("--out", default="benchmarks/results/int8_anatomy.json")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = create_model(args.model, aux_logits=False).eval()
    gen = torch.Generator().manual_seed(0)
    shape = (3, args.size, args.size)
    calib = [torch.randn(args.batch, *shape, generator=gen) for _ in range(4)]
    x = torch.randn(args.batch, *shape, generator=gen)
    macs = sum(row.macs for row in profile_model(model, args.size, 3))
    gop = 2 * macs * args.batch / 1e9  # per batch
    result: dict[str, object] = {"model": args.model, "batch": args.batch,
                                 "command": " ".join([sys.executable, *sys.argv])}
    for path in ("int8", "fused"):
        runner = build_path(path, model, x, calibration=calib)
        for _ in range(4):
            runner(x)
        ops = _by_op(runner, x, args.calls)
        total = sum(ops.values())
        conv = sum(v for k, v in ops.items() if any(c in k for c in CONV_OPS))
        top = sorted(ops.items(), key=lambda kv: -kv[1])[:6]
        result[path] = {"ms_per_batch": total, "conv_ms": conv, "conv_share": conv / total,
                        "conv_gops_per_s": gop / (conv / 1000),
                        "top_ops_ms": dict(top)}
        print(f"{path}: {total:.0f} ms per batch; convolutions {conv:.0f} ms "
              f"({conv / total:.0%}) at {gop / (conv / 1000):.0f} G(FL)OP/s; "
              + ", ".join(f"{k} {v:.0f} ms" for k, v in top), flush=True)
    fused = to_channels_last(fuse_for_inference(model, x, "int8"))
    reference = _quantized_graph(fused, _cl(x), [_cl(c) for c in calib], ["fc"])
    runner = build_path("int8", model, x, calibration=calib)
    with torch.no_grad():
        fp32, ref, compiled = model(x), reference(_cl(x)), runner(x)
    result["logit_distance"] = {"quantized_vs_fp32": _rel(ref, fp32),
                                "compiled_vs_fp32": _rel(compiled, fp32),
                                "compiled_vs_quantized": _rel(compiled, ref)}
    print("logits, relative L2:", json.dumps(result["logit_distance"]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
