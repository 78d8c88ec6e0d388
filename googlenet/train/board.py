"""``--tensorboard``: a run watched live in TensorBoard (``tensorboard --logdir RUN_DIR``).

Per epoch the scalars of ``metrics.csv`` (losses, accuracies, learning rate, speed); once,
a grid of evaluated images and the model's graph. Opt-in: tensorboard is an optional
dependency (``pip install 'googlenet[tensorboard]'``), imported only when a run asks for
it, so ``import googlenet.train`` never pulls it in. Only rank 0 writes.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..data.base import dataset_len
from ..errors import ConfigError
from .inputs import prepare_eval

if TYPE_CHECKING:
    from .runner import Run

LOG_DIR = "tensorboard"  # inside the run folder
SAMPLE_IMAGES = 16


def summary_writer_class() -> Any:  # noqa: ANN401 - torch's SummaryWriter
    """torch's ``SummaryWriter``, or a one-line error saying what to install."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # optional: the tensorboard extra
    except ImportError:
        raise ConfigError("--tensorboard needs the tensorboard package: pip install "
                          "'googlenet[tensorboard]'") from None
    return SummaryWriter


class TensorBoardLog:
    """The event files of one run (``RUN_DIR/tensorboard``)."""

    def __init__(self, run_dir: Path, epochs_done: int) -> None:
        # Events past the last checkpoint belong to epochs a resumed run repeats: purged.
        purge = epochs_done + 1 if epochs_done else None
        self.writer = summary_writer_class()(str(run_dir / LOG_DIR), purge_step=purge)

    def epoch(self, row: dict[str, float]) -> None:
        """One epoch's row of ``metrics.csv`` as scalars, at the epoch number; ``eval`` is
        the epoch's evaluation (the run's report says on what), where it had one."""
        step = int(row["epoch"])
        for metric in ("loss", "acc"):
            self.writer.add_scalar(f"{metric}/train", row[f"train_{metric}"], step)
            if f"val_{metric}" in row:
                self.writer.add_scalar(f"{metric}/eval", row[f"val_{metric}"], step)
        for key in ("val_top5", "lr", "images_per_s"):
            if key in row:
                self.writer.add_scalar(key, row[key], step)
        self.writer.flush()

    def samples(self, images: torch.Tensor) -> None:
        """A grid of uint8 (N, C, H, W) images, as the model's evaluation sees them."""
        self.writer.add_images("evaluated images", images, 0, dataformats="NCHW")

    def graph(self, model: torch.nn.Module, example: torch.Tensor) -> None:
        """The model's graph (traced in eval mode); a model that cannot be traced is
        said on stderr and the run goes on."""
        was = model.training
        model.eval()
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")  # tracer warnings about Python checks
                self.writer.add_graph(model, example)
        except Exception as err:  # noqa: BLE001 - a graph is a nicety, never fatal
            print(f"tensorboard: model graph not logged ({type(err).__name__}: {err})",
                  file=sys.stderr)
        finally:
            model.train(was)

    def close(self) -> None:
        self.writer.close()


def check_tensorboard(wanted: bool) -> None:
    """Fail in one line before any work when ``--tensorboard`` cannot be served."""
    if wanted:
        summary_writer_class()


@contextlib.contextmanager
def tensorboard_log(run: Run) -> Iterator[TensorBoardLog | None]:
    """The run's TensorBoard log (rank 0, with ``--tensorboard``), or None; the sample
    images and the graph are written on opening."""
    if not (run.cfg.tensorboard and run.dist.is_main):
        yield None
        return
    board = TensorBoardLog(run.dir, run.epoch)
    data = run.data
    n = min(SAMPLE_IMAGES, dataset_len(data.eval))
    images = torch.stack([data.eval[i][0] for i in range(n)])
    board.samples(images)
    example = prepare_eval(images[:2], data.input_size, data.mean, data.std).to(run.device)
    board.graph(run.model, example)
    try:
        yield board
    finally:
        board.close()
