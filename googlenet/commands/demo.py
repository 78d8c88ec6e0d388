"""``googlenet demo``: the main job of ``make demo``.

It prints GoogLeNet's Table 1 and what the 1x1 reductions save, measured on the built
modules, then trains a small GoogLeNet on Fashion-MNIST (or synthetic data) and writes its
curves, confusion matrix, report and checkpoint (googlenet/train/demo.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cost import human, profile_model, reduction_cost, render_table1, table1
from ..deploy.heap import keep_freed_memory
from ..errors import OutputError
from ..models import create_model
from ..models.inception_net import InceptionNet
from ..train.demo import demo_config, run_demo


def _run(args: argparse.Namespace) -> int:
    keep_freed_memory()  # this command runs inference or training: see deploy/heap.py
    output = Path(args.output)
    if output.exists() and not output.is_dir():  # checked before minutes of tables
        raise OutputError(f"--output {output}: is a file; give a folder for the run")
    _print_table1()
    if not args.no_train:
        result = run_demo(demo_config(args.output, data=args.data))
        if result.stopped:
            return 130  # interrupted (resumable), as `googlenet train` says it
    return 0


def _print_table1() -> None:
    model = create_model("googlenet")
    assert isinstance(model, InceptionNet)
    print("GoogLeNet (Szegedy et al. 2014), Table 1, computed from the built network\n")
    print(render_table1(table1(model), 224))
    r = reduction_cost(28, 28, 192, 32, 5, 16)
    print("\nThe 1x1 reduction on one branch (28x28x192 -> 32 filters of 5x5):")
    print(f"  direct: {human(r.direct_macs)} multiply-adds; behind a 1x1 reduce to 16: "
          f"{human(r.reduced_macs)} ({r.mac_ratio:.1f}x fewer)")
    naive = create_model("googlenet_naive", aux_logits=False)
    lean = create_model("googlenet", aux_logits=False)
    n_cost = profile_model(naive, 224, 3)
    l_cost = profile_model(lean, 224, 3)
    nm, lm = sum(c.macs for c in n_cost), sum(c.macs for c in l_cost)
    npar, lpar = sum(c.params for c in n_cost), sum(c.params for c in l_cost)
    print("\nThe whole network, naive blocks vs blocks with reductions (224x224):")
    print(f"  googlenet_naive: {npar:,} params, {human(nm)} multiply-adds")
    print(f"  googlenet:       {lpar:,} params, {human(lm)} multiply-adds "
          f"({nm / lm:.1f}x fewer)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="the main job: Table 1 and the cost of the reductions")
    p.add_argument("--no-train", action="store_true", help="only print the tables")
    p.add_argument("--output", default="runs", help="parent folder of the demo's run folder")
    p.add_argument("--data", help="folder with Fashion-MNIST's four IDX files (default: "
                                  "$GOOGLENET_DATA, ~/.cache/googlenet, Debian's package)")
    p.set_defaults(func=_run)
