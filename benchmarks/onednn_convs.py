"""Which oneDNN implementations run a training step's convolutions, and how long each takes
by oneDNN's own clock.

The step is the trainer's (``benchmarks/train_step.py``'s, on one of its paths: the
presets' bf16 + channels_last by default). It runs in a child process with
``ONEDNN_VERBOSE=1``, which oneDNN reads when it starts: after warm-up steps, one step's
execution lines are summed by implementation and direction (forward, backward data,
backward weights), with the GFLOP/s each sustains (FLOPs from the shapes oneDNN prints:
2 x batch x out channels x in channels per group x output pixels x kernel area), and
the data type and memory format each reads: a compiled graph that fell back to NCHW or
fp32 shows it here.

    PYTHONPATH=. python benchmarks/onednn_convs.py                  # fmnist-fast at 28 px
    PYTHONPATH=. python benchmarks/onednn_convs.py --preset fmnist-30min --epoch 1  # 20 px

Prints Markdown tables and writes JSON (``--out``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.result_json import write_result
from benchmarks.train_fashion_mnist import add_recipe_args, recipe
from googlenet.train.throughput import STEP_PATHS, StepRunner

MARK = "=== the measured step ==="
REPO = Path(__file__).resolve().parents[1]  # the child imports `benchmarks` from here
# g2mb256_ic16oc48_ih28oh28kh3sh1dh0ph1_iw28ow28kw3sw1dw0pw1 (groups optional)
SHAPE = re.compile(r"(?:g(\d+))?mb(\d+)_ic(\d+)oc(\d+)_ih\d+oh(\d+)kh(\d+)\S*?_iw\d+ow(\d+)kw(\d+)")
DIRECTIONS = {"forward_training": "forward", "forward_inference": "forward",
              "backward_data": "backward data", "backward_weights": "backward weights"}


def build_parser() -> argparse.ArgumentParser:
    """The recipe's flags, the path and the step measured."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_recipe_args(p)
    p.add_argument("--path", default="bf16_channels_last", choices=sorted(STEP_PATHS),
                   help="the step's execution path (default: the presets')")
    p.add_argument("--epoch", type=int,
                   help="the step of this epoch (from 1; default: the last, at the model's size)")
    p.add_argument("--warmup", type=int, default=2, help="unmeasured steps first")
    p.add_argument("--out", default="benchmarks/results/onednn_convs.json")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p


def conv_flops(shape: str) -> int | None:
    """FLOPs of one convolution from oneDNN's shape string, or None if unreadable."""
    m = SHAPE.search(shape)
    if m is None:
        return None
    g, mb, ic, oc, oh, kh, ow, kw = (int(v) if v else 1 for v in m.groups())
    return 2 * mb * oc * (ic // g) * oh * ow * kh * kw


def source_layout(descs: str) -> str:
    """The data type and memory format of a primitive's source, from oneDNN's memory
    descriptors (``src:bf16::blocked:acdb::f0 wei:...``): ``bf16 acdb`` (acdb is NHWC,
    abcd NCHW), or ``?``."""
    src = next((d for d in descs.split() if d.startswith(("src:", "diff_src:"))), "")
    parts = src.split(":")
    return f"{parts[1]} {parts[4]}" if len(parts) > 4 else "?"


def summarize(lines: Iterable[str]) -> dict[str, Any]:
    """oneDNN's execution lines (``onednn_verbose,v1,primitive,exec,cpu,KIND,IMPL,PROP,
    DESCS,...,SHAPE,MS``) summed: convolutions by (implementation, direction, source type
    and layout), and every kind."""
    convs: dict[tuple[str, str, str], dict[str, float]] = {}
    kinds: dict[str, float] = {}
    layers: list[dict[str, Any]] = []
    for line in lines:
        f = line.strip().split(",")
        if len(f) < 10 or f[0] != "onednn_verbose" or "exec" not in f[:4]:
            continue
        at = f.index("exec")
        kind, impl, prop, shape, ms = f[at + 2], f[at + 3], f[at + 4], f[-2], float(f[-1])
        kinds[kind] = kinds.get(kind, 0.0) + ms
        if kind != "convolution":
            continue
        flops = conv_flops(shape) or 0
        row = convs.setdefault((impl, DIRECTIONS.get(prop, prop), source_layout(f[at + 5])),
                               {"ms": 0.0, "calls": 0, "gflop": 0.0})
        row["ms"] += ms
        row["calls"] += 1
        row["gflop"] += flops / 1e9
        layers.append({"impl": impl, "direction": DIRECTIONS.get(prop, prop), "shape": shape,
                       "ms": ms, "gflop_per_s": flops / 1e9 / (ms / 1e3) if ms else 0.0})
    return {
        "convolutions": [{"impl": i, "direction": d, "src": src, **v,
                          "gflop_per_s": v["gflop"] / (v["ms"] / 1e3) if v["ms"] else 0.0}
                         for (i, d, src), v in sorted(convs.items(),
                                                      key=lambda kv: -kv[1]["ms"])],
        "by_kind_ms": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
        "largest_layers": sorted(layers, key=lambda r: -r["ms"])[:8],
    }


def render(summary: dict[str, Any]) -> str:
    """The summary as Markdown tables."""
    rows = summary["convolutions"]
    ms = sum(r["ms"] for r in rows)
    gflop = sum(r["gflop"] for r in rows)
    out = ["| implementation | direction | source (type, layout) | calls | ms | GFLOP | GFLOP/s |",
           "|---|---|---|---:|---:|---:|---:|"]
    out += [f"| {r['impl']} | {r['direction']} | {r['src']} | {r['calls']} | {r['ms']:.1f} | "
            f"{r['gflop']:.2f} | {r['gflop_per_s']:.0f} |" for r in rows]
    out.append(f"| **all convolutions** | | | {sum(r['calls'] for r in rows)} | **{ms:.1f}** | "
               f"{gflop:.2f} | **{gflop / (ms / 1e3) if ms else 0:.0f}** |")
    out += ["", "| largest layers | direction | shape | ms | GFLOP/s |", "|---|---|---|---:|---:|"]
    out += [f"| {r['impl']} | {r['direction']} | {r['shape']} | {r['ms']:.2f} | "
            f"{r['gflop_per_s']:.0f} |" for r in summary["largest_layers"]]
    out += ["", "oneDNN time by primitive kind (ms): " + ", ".join(
        f"{k} {v:.1f}" for k, v in summary["by_kind_ms"].items())]
    return "\n".join(out)


def child(args: argparse.Namespace) -> None:
    """Warm up, print the mark, run the measured step (oneDNN prints as it executes)."""
    cfg = STEP_PATHS[args.path].config(recipe(args, report=False))
    runner = StepRunner(cfg, 2, None if args.epoch is None else args.epoch - 1)
    runner.steps(args.warmup)
    print(MARK, flush=True)
    runner.steps(1)
    sys.stdout.flush()


def run(args: argparse.Namespace, argv: Sequence[str]) -> dict[str, Any]:
    """Run the child with oneDNN's verbose log, summarize and write."""
    env = {**os.environ, "ONEDNN_VERBOSE": "1"}
    done = subprocess.run([sys.executable, "-m", "benchmarks.onednn_convs", *argv, "--child"],
                          env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0 or MARK not in done.stdout:
        raise SystemExit(f"the measured step failed: {done.stderr.strip()[-2000:]}")
    summary = summarize(done.stdout.split(MARK, 1)[1].splitlines())
    print(render(summary), flush=True)
    isa = next((ln.split("isa:", 1)[1] for ln in done.stdout.splitlines() if "isa:" in ln), "")
    data = {"benchmark": "onednn_convs", "path": args.path, "preset": args.preset,
            "epoch": args.epoch, "onednn_isa": isa.strip(), "load_average": os.getloadavg(),
            "command": " ".join([Path(sys.executable).name, *sys.argv]), **summary}
    out = write_result(args.out, data)
    print(f"wrote {out}")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: the parent runs the child and summarizes its log."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.child:
        child(args)
    else:
        run(args, argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
