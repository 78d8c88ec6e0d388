"""Where the int8 and fused fp32 paths spend their time, and how far int8 moves the logits.

    PYTHONPATH=. python benchmarks/int8_anatomy.py --out benchmarks/results/int8_anatomy.json

For one model (googlenet_bn, random init, seed 0) at batch 32: each path's time by op
(``torch.profiler``, 3 calls after warm-up; for ``onnxruntime_int8`` onnxruntime's own
profiler, by node type, with the stem convolution apart from the others, as built and
as onnxruntime's quantizer alone leaves it) and the convolutions' sustained rate; and,
for int8, the logits' distance (relative L2) between fp32, the quantized graph before
compiling, and the compiled graph, and for onnxruntime_int8 how much of its error is
one offset shared by every image, and its wall time per batch in one session on all
threads against the path's runner (batch slices side by side). The numbers BENCHMARKS.md
quotes for point 4.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from functools import partial
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from googlenet.cost import profile_model
from googlenet.deploy.export import (
    INPUT_NAME,
    OUTPUT_NAME,
    export_onnx,
    onnx_session,
    onnx_session_runner,
)
from googlenet.deploy.fuse import fuse_for_inference
from googlenet.deploy.onnx_int8 import quantize_onnx_int8
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


def _ort_by_node(model: torch.nn.Module, x: torch.Tensor, calib: list[torch.Tensor],
                 calls: int, **options: bool
                 ) -> tuple[dict[str, float], list[float], torch.Tensor, dict[str, float]]:
    """onnxruntime_int8 as the path builds it (``options``: those of
    :func:`quantize_onnx_int8`), profiled by onnxruntime in one session on all threads:
    ms per call of each node type after its graph optimisations, of each int8
    convolution in the order they ran (the first is the stem), the logits, and
    :func:`_whole_vs_slices`. The first run is a warm-up: each node's first event is
    dropped."""
    with tempfile.TemporaryDirectory() as tmp:
        source = export_onnx(model, Path(tmp) / "m.onnx", x[:2])
        quantized = quantize_onnx_int8(source, Path(tmp) / "q.onnx", calib, **options)
        session = onnx_session(quantized, profile_prefix=Path(tmp) / "profile")
        feed = {INPUT_NAME: x.numpy()}
        for _ in range(calls + 1):
            logits = torch.from_numpy(session.run([OUTPUT_NAME], feed)[0])
        events = json.loads(Path(session.end_profiling()).read_text())
        wall = _whole_vs_slices(quantized, x, calls)
    by_type: dict[str, float] = defaultdict(float)
    convs: dict[str, float] = {}
    seen: set[str] = set()
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        if e["name"] not in seen:  # the warm-up run
            seen.add(e["name"])
            continue
        op = e["args"]["op_name"]
        by_type[op] += e["dur"] / 1000 / calls
        if op == "QLinearConv":
            convs[e["name"]] = convs.get(e["name"], 0.0) + e["dur"] / 1000 / calls
    return dict(by_type), list(convs.values()), logits, wall


def _whole_vs_slices(path: Path, x: torch.Tensor, calls: int) -> dict[str, float]:
    """Wall ms per batch: one session on all threads, against the path's runner (a
    single-threaded session per thread, each on a slice of the batch, side by side).
    Median over ``calls`` rounds after a warm-up one; each round runs each way 4 times in
    a row and drops the first, which pays for the other way's threads still spinning
    (onnxruntime's pool spins a while after each run)."""
    whole = onnx_session(path)
    feed = {INPUT_NAME: x.numpy()}
    runners = {"wall_one_session": lambda: whole.run([OUTPUT_NAME], feed),
               "wall_slices_side_by_side": partial(onnx_session_runner(path), x)}
    times: dict[str, list[float]] = {name: [] for name in runners}
    for round_ in range(calls + 1):
        for name, run in runners.items():
            for call in range(4):
                start = time.perf_counter()
                run()
                if round_ and call:
                    times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(ms) for name, ms in times.items()}


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def _logit_error(out: torch.Tensor, fp32: torch.Tensor) -> dict[str, float]:
    """How far ``out`` is from ``fp32``: relative L2, top-1 agreement, and the share of
    the error's norm that is one offset common to every image."""
    error = out - fp32
    common = error.mean(0, keepdim=True).expand_as(error)
    return {"relative_l2": _rel(out, fp32),
            "top1_agreement": float((out.argmax(1) == fp32.argmax(1)).float().mean()),
            "common_offset_share": float(common.norm() / error.norm())}


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
    with torch.no_grad():
        fp32 = model(x)
    # The path as built, and the quantizer's own graph (no shared concat scales, no
    # bias correction): what the two passes after it change, in time and in the logits.
    for name, options in (("onnxruntime_int8", {}),
                          ("onnxruntime_int8_quantizer_only",
                           {"share_scales": False, "correct_bias": False})):
        ops, convs, logits, wall = _ort_by_node(model, x, calib, args.calls, **options)
        total = sum(ops.values())
        conv_ms, stem_ms = sum(convs), convs[0]
        stem_gop = 2 * profile_model(model, args.size, 3)[0].macs * args.batch / 1e9
        others = (gop - stem_gop) / ((conv_ms - stem_ms) / 1000)
        by_type = dict(sorted(ops.items(), key=lambda kv: -kv[1]))
        result[name] = {
            "ms_per_batch": total, "conv_ms": conv_ms, "conv_share": conv_ms / total,
            "conv_gops_per_s": gop / (conv_ms / 1000), "stem_conv_ms": stem_ms,
            "stem_gops_per_s": stem_gop / (stem_ms / 1000), "other_convs_gops_per_s": others,
            "by_node_type_ms": by_type, "logits_vs_fp32": _logit_error(logits, fp32),
            "wall_ms_per_batch": wall}
        print(f"{name}: {total:.0f} ms per batch in kernels; int8 convolutions "
              f"{conv_ms:.0f} ms ({conv_ms / total:.0%}) at {gop / (conv_ms / 1000):.0f} "
              f"GOP/s (stem {stem_ms:.1f} ms at {stem_gop / (stem_ms / 1000):.0f}, the "
              f"others at {others:.0f}); "
              + ", ".join(f"{k} {v:.1f} ms" for k, v in list(by_type.items())[:6])
              + "; logits vs fp32: " + json.dumps(result[name]["logits_vs_fp32"])
              + "; wall ms per batch: " + json.dumps(wall), flush=True)
    fused = to_channels_last(fuse_for_inference(model, x, "int8"))
    reference = _quantized_graph(fused, _cl(x), [_cl(c) for c in calib], ["fc"])
    runner = build_path("int8", model, x, calibration=calib)
    with torch.no_grad():
        ref, compiled = reference(_cl(x)), runner(x)
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
