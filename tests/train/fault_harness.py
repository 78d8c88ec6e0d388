"""Run a tiny training run in a subprocess and SIGKILL it at a chosen file write.

``python fault_harness.py RUN_PARENT KILL [KIND]`` (KIND ``train``, the default, or
``finetune``: a two-phase transfer run) where KILL is ``none``, ``after:N`` (kill right
after the N-th atomic rename, i.e. just after a file was committed) or ``before:N`` (kill
with the N-th file written but not yet renamed, leaving its temporary file behind). The
run resumes when its folder holds a checkpoint and starts over otherwise, as a user would;
on success it prints the FitResult's best row as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path


def _arm(kill: str) -> None:
    if kill == "none":
        return
    when, n = kill.split(":")
    import googlenet.atomic as atomic

    real = os.replace
    calls = [0]

    def replace(src: str, dst: str) -> None:
        calls[0] += 1
        if calls[0] == int(n) and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        real(src, dst)
        if calls[0] == int(n) and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)

    atomic.os = type(os)("os_with_faults")  # a module whose replace is the faulty one
    atomic.os.__dict__.update(os.__dict__)
    atomic.os.replace = replace


def config(parent: Path, kind: str):  # noqa: ANN201 - TrainConfig, imported late
    from googlenet.recipe import ModelRecipe, TransferRecipe
    from googlenet.train import TrainConfig

    common = dict(dataset="synthetic", batch_size=32, train_limit=96, eval_limit=64,
                  eval_batch_size=64, output=str(parent), name="run", progress=False,
                  report=False, seed=3, threads=1)
    if kind == "finetune":
        # Two phases: the head alone, then incep2 too at a lower rate (RMSprop state for
        # the newly opened block appears mid-run and must survive a resume as well).
        recipe = TransferRecipe(ModelRecipe("inception_a_net", aux_logits=False), "incep2",
                                hidden=16, unfreeze=("incep2",))
        return TrainConfig(recipe=recipe, epochs=2, unfreeze_epochs=1, optimizer="rmsprop",
                           lr=1e-3, momentum=0.0, schedule="constant", weight_decay=0.0,
                           hflip=True, **common)
    # EMA, augmentation and mixup: every kind of state a resume must restore.
    return TrainConfig(recipe=ModelRecipe("inception_a_net"), epochs=3, lr=0.01,
                       schedule="cosine", ema_decay=0.9, hflip=True, shift=0.1, mixup=0.2,
                       **common)


def main() -> None:
    parent, kill = Path(sys.argv[1]), sys.argv[2]
    kind = sys.argv[3] if len(sys.argv) > 3 else "train"
    _arm(kill)
    from googlenet.train import fit, prepare_resume

    run = parent / "run"
    resume = (run / "last.safetensors").exists()
    if resume:
        prepare_resume(run)
    result = fit(config(parent, kind), resume=resume, overwrite=not resume)
    print(json.dumps(result.best))


if __name__ == "__main__":
    main()
