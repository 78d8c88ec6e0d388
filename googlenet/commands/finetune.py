"""``googlenet finetune --weights W --cut mixed7 --data FOLDER``: transfer learning.

The same command as ``train`` with a transfer recipe and the Keras tutorial's defaults
(googlenet.transfer.finetune): same run folder, same ``--resume``, same report.
"""

from __future__ import annotations

import argparse

from ..deploy.heap import keep_freed_memory
from ..errors import ConfigError
from ..train.runner import fit
from ..transfer.finetune import finetune_base, require_cut
from .train import add_run_flags, apply_weights_defaults, build_config, report


def _run(args: argparse.Namespace) -> int:
    keep_freed_memory()  # this command runs inference or training: see deploy/heap.py
    apply_weights_defaults(args)
    if not args.resume:
        if not hasattr(args, "weights") and not args.from_scratch:
            # A random backbone trains to chance accuracy and still writes a report.
            raise ConfigError("give --weights FILE (a pretrained backbone), or "
                              "--from-scratch --model NAME to train a random one")
        if hasattr(args, "weights") and args.from_scratch:
            raise ConfigError("--from-scratch trains a random backbone; drop it to start "
                              f"from --weights {args.weights}")
        if not hasattr(args, "weights") and not hasattr(args, "model"):
            raise ConfigError("--from-scratch needs --model NAME: the backbone to build")
        require_cut(getattr(args, "cut", None))
        if not hasattr(args, "data"):
            raise ConfigError("--data is required: the image folder to fine-tune on")
    cfg = build_config(args, finetune_base())
    return report(fit(cfg, resume=bool(args.resume), overwrite=args.overwrite), "finetune")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "finetune", help="fine-tune a pretrained backbone on an image folder",
        description="Cut a pretrained backbone (--weights) after a named feature (--cut), "
                    "freeze it (BN in inference mode) and train a new head on --data "
                    "FOLDER/<class>/*.jpg (or FOLDER/train and FOLDER/test; a single "
                    "folder takes --val-split 0.2). Every `train` flag works; the "
                    "defaults are the Keras tutorial's.")
    p.add_argument("--from-scratch", action="store_true",
                   help="train the backbone from random weights (without --weights); "
                        "only worth it with plenty of data")
    add_run_flags(p, finetune_base(), {"model": "the --weights file's model",
                                       "cut": "required, or a fine-tuned --weights file's"})
    p.set_defaults(func=_run)
