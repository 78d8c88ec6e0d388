"""Inference speed of every path for one model, side by side, written as JSON.

    PYTHONPATH=. python benchmarks/inference.py --model googlenet --batch 1,32 \
        --input-size 224 --out benchmarks/results/inference_cpu.json

Every ratio is to the model's own eager fp32 NCHW path timed in the same process, in
interleaved rounds, so machine noise affects both sides alike; ``--baseline`` (default
auto: googlenet_bn, torchvision's layout of the same network, for googlenet; or a name of
the same network) is timed eager in the same rounds on the same images, and every path
gets its ratio to it too. Each timing is the median of the rounds, with their min and
max. ``googlenet bench`` prints the same.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import torch

from benchmarks.result_json import write_result
from googlenet.commands.bench import parse_batches
from googlenet.deploy.bench import baseline_for, benchmark, render
from googlenet.deploy.optimize import PATHS
from googlenet.models import create_model, get_model_info


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="googlenet")
    p.add_argument("--batch", default="1,32")
    p.add_argument("--input-size", type=int, default=224)
    p.add_argument("--paths", default=",".join(PATHS))
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--baseline", default="auto",
                   help="second reference, the same network ('auto': googlenet_bn for "
                        "googlenet; 'none': off)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random-init weights")
    p.add_argument("--out", default="benchmarks/results/inference_cpu.json")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    # Random weights decide near-ties, so a lower-precision path's top-1 agreement moves
    # with the draw (1 image of 32 is 3%): seeded, a rerun checks the same network.
    torch.manual_seed(args.seed)
    model = create_model(args.model, aux_logits=False)
    baseline, note = baseline_for(args.baseline, args.model,
                                  get_model_info(args.model).in_chans, args.input_size)
    if note:
        print(note, file=sys.stderr)
    start, load = time.time(), os.getloadavg()
    report = benchmark(model, name=args.model, paths=args.paths.split(","),
                       batches=parse_batches(args.batch), input_size=args.input_size,
                       device=args.device, rounds=args.rounds,
                       baseline=baseline)
    print(render(report))
    data = report.as_dict() | {"command": " ".join([sys.executable, *sys.argv]),
                               "wall_s": round(time.time() - start, 1),
                               # 1-minute load average before and after: the machine is
                               # shared, and a figure must say how quiet it was.
                               "load_average": [round(load[0], 2),
                                                round(os.getloadavg()[0], 2)]}
    out = write_result(args.out, data)
    print(f"wrote {out}")
    failed = report.failed()
    for r in failed:
        print(f"{r.path} at batch {r.batch} is outside its tolerance ({r.tolerance})",
              file=sys.stderr)
    if report.reference_problem:
        print(f"eager's outputs are degenerate: {report.reference_problem}", file=sys.stderr)
    return 1 if failed or report.reference_constant else 0


if __name__ == "__main__":
    sys.exit(main())
