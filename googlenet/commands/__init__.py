"""Subcommands of the CLI, one module each; ``COMMANDS`` lists their ``register``."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from . import (
    bench,
    convert,
    cost,
    demo,
    diagram,
    dream,
    explain,
    export,
    finetune,
    models,
    predict,
    summary,
    weights,
)
from . import eval as eval_cmd
from . import train as train_cmd

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

COMMANDS: list[Register] = [
    models.register_list,
    models.register_info,
    summary.register,
    cost.register,
    demo.register,
    train_cmd.register,
    eval_cmd.register,
    convert.register,
    finetune.register,
    predict.register,
    bench.register,
    export.register,
    explain.register,
    diagram.register,
    dream.register,
    weights.register,
]
