"""``googlenet finetune --weights W --cut mixed7 --data FOLDER``: transfer learning."""

from __future__ import annotations

import argparse

from ..transfer.finetune import KERAS_AUGMENT, finetune
from ..transfer.model import HEADS, POOLS, HeadOptions


def _run(args: argparse.Namespace) -> int:
    augment = {"rotation": args.rotation, "shift": args.shift, "shear": args.shear,
               "zoom": args.zoom, "hflip": not args.no_hflip}
    unfreeze = [n for n in (args.unfreeze or "").split(",") if n]
    result = finetune(
        args.data, weights=args.weights, model=args.model, cut=args.cut,
        head=HeadOptions(args.head, args.pool, args.hidden, args.dropout),
        input_size=args.input_size,
        epochs=args.epochs, lr=args.lr, optimizer=args.optimizer, batch_size=args.batch_size,
        augment=augment, unfreeze=unfreeze, unfreeze_lr=args.unfreeze_lr,
        unfreeze_epochs=args.unfreeze_epochs if unfreeze else 0, output=args.output,
        name=args.name, overwrite=args.overwrite, device=args.device,
        precision=args.precision, eval_split=args.eval_split, progress=not args.no_progress,
        report=not args.no_report, seed=args.seed,
    )
    best = result.runs[-1].best
    acc = f", val acc {best['val_acc']:.4f}" if "val_acc" in best else ""
    print(f"fine-tuned weights: {result.weights}{acc}")
    print(f"predict with: googlenet predict IMAGE... --weights {result.weights}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("finetune", help="fine-tune a pretrained backbone on an image folder",
                       description="Cut a pretrained backbone at a named feature, freeze it "
                                   "(BN in inference mode) and train a new head on FOLDER/"
                                   "<class>/*.jpg (or FOLDER/train and FOLDER/test).")
    a = p.add_argument
    a("--data", required=True, help="image folder, one sub-folder per class")
    a("--weights", help="backbone weights (.safetensors from `googlenet convert`)")
    a("--model", help="backbone model name (needed only without --weights)")
    a("--cut", required=True, help="feature to cut at, e.g. mixed7 or inception_4e")
    a("--head", choices=HEADS, default="classes",
      help="classes: softmax over the class folders; binary: one sigmoid unit")
    a("--pool", choices=POOLS, default="flatten",
      help="flatten the cut's map (Keras recipe) or global-average-pool it")
    a("--hidden", type=int, default=1024, help="hidden Dense units (0: none)")
    a("--dropout", type=float, default=0.2)
    a("--input-size", type=int, help="train at this size (default: the weights')")
    a("--epochs", type=int, default=2)
    a("--lr", type=float, default=1e-4)
    a("--optimizer", choices=("rmsprop", "sgd", "adamw"), default="rmsprop")
    a("--batch-size", type=int, default=32)
    for name, default in (("rotation", "degrees"), ("shift", "fraction of the size"),
                          ("shear", "degrees"), ("zoom", "v: zoom in [1-v, 1+v]")):
        a(f"--{name}", type=float, default=KERAS_AUGMENT[name],
          help=f"augmentation, {default} (default {KERAS_AUGMENT[name]})")
    a("--no-hflip", action="store_true", help="no random horizontal flips")
    a("--unfreeze", help="comma-separated blocks to train in a second phase, e.g. "
                         "mixed9,mixed10")
    a("--unfreeze-lr", type=float, default=1e-5)
    a("--unfreeze-epochs", type=int, default=1)
    a("--eval-split", default="test", help="sub-folder evaluated after each epoch")
    a("--output", default="runs", help="parent folder of the run folders")
    a("--name", help="run folder name")
    a("--overwrite", action="store_true", help="replace an existing run folder")
    a("--device", default="auto")
    a("--precision", choices=("fp32", "bf16"), default="fp32")
    a("--seed", type=int, default=0)
    a("--no-progress", action="store_true")
    a("--no-report", action="store_true", help="skip curves and report.md")
    p.set_defaults(func=_run)
