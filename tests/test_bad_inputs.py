"""Bad inputs, hostile files and a hostile environment, as one table (issue 31).

Each row is a command line, what to set up first, the exit status and a phrase of the
one stderr line it must print, and the paths the command must NOT have created (a run
that cannot start leaves no folder). A new flag comes with a row per bad value.

The rows run through ``googlenet.cli.main`` in-process, and the stderr checked is all
the command printed. Two tests after the table run real processes: the console entry
point, and a case that must not take this process's memory with it.

Rows that mount need a tmpfs: a read-only one for the read-only cases (CI runs as
root, where ``chmod`` stops nothing), a 64 KiB one for a full disk. Where ``mount`` is
not allowed they skip and say so.
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from googlenet.cli import main
from googlenet.models import build_model, get_model_info
from googlenet.recipe import ModelRecipe
from googlenet.weights import WeightsMeta, save_weights

# A tiny run: a case whose check is missing fails fast instead of training for long.
TRAIN = ["train", "--model", "inception_a_net", "--dataset", "synthetic", "--epochs", "1",
         "--train-limit", "64", "--eval-limit", "32", "--batch-size", "32",
         "--progress", "false", "--report", "false", "--output", "{tmp}/out"]
FINETUNE = ["finetune", "--epochs", "1", "--progress", "false", "--report", "false",
            "--output", "{tmp}/out", "--name", "ft"]
TINY = "inception_a_net"  # 28x28 grey, 10 classes
SCRATCH = ["finetune", "--from-scratch"]  # what a finetune row checks comes after it
COST = ["cost", "--input", "28x28x192", "--filters", "32", "--reduce", "16"]
T = "{tmp}/trunc.safetensors"  # made by the setup ``truncated``
J = "{tmp}/junk.safetensors"  # made by the setup ``junk``


class Env:
    """What a row's setup may do in the test's folder: write files, mount a tmpfs."""

    def __init__(self, tmp: Path, mounts: list[Path]) -> None:
        self.tmp, self._mounts = tmp, mounts

    def mount(self, name: str, options: str) -> Path:
        """A tmpfs at ``tmp/name`` mounted with ``options``; skips the test when this
        machine does not let us mount."""
        where = self.tmp / name
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'}); "
                        "the read-only and full-disk cases need one")
        self._mounts.append(where)
        return where


def weights(env: Env, name: str = "w.safetensors", *, classes: int = 10,
            change: Callable[[dict[str, torch.Tensor]], None] | None = None) -> Path:
    """A random tiny model's weights file, its state dict changed by ``change``."""
    torch.manual_seed(0)
    recipe = ModelRecipe(TINY)
    state = build_model(recipe).state_dict()
    if change is not None:
        change(state)
    meta = WeightsMeta(recipe, tuple(f"c{i}" for i in range(classes)),
                       get_model_info(TINY).preprocessing)
    path = env.tmp / name
    save_weights(path, state, meta)
    return path


def _first_weight(state: dict[str, torch.Tensor]) -> str:
    return next(k for k, v in state.items() if k.endswith("weight") and v.ndim == 4)


def nan_weight(env: Env) -> None:
    def poison(state: dict[str, torch.Tensor]) -> None:
        state[_first_weight(state)].view(-1)[0] = float("nan")
    weights(env, change=poison)


def int_weight(env: Env) -> None:
    def as_int(state: dict[str, torch.Tensor]) -> None:
        key = _first_weight(state)
        state[key] = state[key].to(torch.int32)
    weights(env, change=as_int)


def image(path: Path, size: tuple[int, int] = (32, 32), value: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0]), value, np.uint8)).save(path)
    return path


def one_class_folder(env: Env) -> None:
    for i in range(4):
        image(env.tmp / "one" / "only" / f"{i}.png", value=40 * i)


def unknown_model_file(env: Env) -> None:
    path = weights(env)
    data = path.read_bytes()
    # The recipe's name lives in the JSON header; a same-length name keeps it valid.
    path.write_bytes(data.replace(b"inception_a_net", b"inception_z_net"))


def symlinked_run(env: Env) -> None:
    (env.tmp / "elsewhere").mkdir()
    (env.tmp / "out").mkdir()
    (env.tmp / "out" / "linked").symlink_to(env.tmp / "elsewhere")


def users_files(env: Env) -> None:
    (env.tmp / "out" / "mine").mkdir(parents=True)
    (env.tmp / "out" / "mine" / "best.safetensors").write_bytes(b"the user's own")


def run_config(env: Env) -> None:
    (env.tmp / "out" / "run").mkdir(parents=True)
    (env.tmp / "out" / "run" / "config.json").write_text("{}\n")


def fifo(env: Env) -> None:
    weights(env)
    os.mkfifo(env.tmp / "x.png")


def read_only(env: Env) -> None:
    weights(env)
    env.mount("ro", "ro,size=1m")


def read_only_run(env: Env) -> None:
    """A run folder (its config.json) on a file system since made read-only."""
    where = env.mount("ro", "size=1m")
    (where / "run").mkdir()
    (where / "run" / "config.json").write_text("{}\n")
    done = subprocess.run(["mount", "-o", "remount,ro", str(where)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs read-only ({done.stderr.strip()})")


def full_disk(env: Env) -> None:
    weights(env)
    env.mount("full", "size=64k")


def a_file(env: Env) -> None:
    (env.tmp / "file").write_text("not a folder\n")


def finished_run(env: Env) -> None:
    """``out/done``: a run that trained its 2 epochs."""
    assert main([a.format(tmp=env.tmp) for a in [*TRAIN, "--epochs", "2", "--name", "done"]]) == 0


def junk(env: Env) -> None:
    (env.tmp / "junk.safetensors").write_bytes(b"junk")


def bare_state_dict(env: Env) -> None:
    """A state dict without the metadata that says what model it is and how to feed it."""
    save_file(build_model(ModelRecipe(TINY)).state_dict(), str(env.tmp / "bare.safetensors"))


def other_format(suffix: str) -> Callable[[Env], None]:
    """A setup writing ``m<suffix>``, a file that is not safetensors, and an image."""
    def setup(env: Env) -> None:
        (env.tmp / f"m{suffix}").write_bytes(b"\x08\x07\x12\x07pytorch")
        image(env.tmp / "a.png")
    return setup


def truncated(env: Env) -> None:
    """``trunc.safetensors``: the first half of a valid file."""
    good = env.tmp / "good.safetensors"
    save_file({"w": torch.zeros(64, 64)}, str(good))
    data = good.read_bytes()
    (env.tmp / "trunc.safetensors").write_bytes(data[: len(data) // 2])


def string_epochs_run(env: Env) -> None:
    """A run folder whose config.json has a string where an int belongs."""
    (env.tmp / "run").mkdir()
    (env.tmp / "run" / "config.json").write_text('{"epochs": "two"}\n')


@dataclass(frozen=True)
class Case:
    argv: list[str]
    phrase: str  # a piece of the one stderr line ({tmp} is the test's folder)
    setup: Callable[[Env], object] | None = None
    code: int = 2
    absent: tuple[str, ...] = ()  # paths the command must not have created
    stdout: str = ""  # a piece of what must have been printed anyway


W = "{tmp}/w.safetensors"
CASES = [
    # -- run folders: nothing written outside --output, nothing replaced without asking
    pytest.param(Case([*TRAIN, "--name", "linked", "--overwrite"], "is a symbolic link",
                      symlinked_run, absent=("elsewhere/.lock", "elsewhere/config.json")),
                 id="train-symlinked-run-folder"),
    pytest.param(Case([*TRAIN, "--name", "mine"], "already holds files (best.safetensors)",
                      users_files, absent=("out/mine/config.json", "out/mine/.lock")),
                 id="train-folder-with-checkpoints-but-no-config"),
    pytest.param(Case([*TRAIN, "--name", "x", "--model", "googlenet_nope"], "googlenet_nope",
                      absent=("out/x",)), id="train-unknown-model-leaves-no-folder"),
    pytest.param(Case([*TRAIN, "--name", "x", "--batch-size", "128"],
                      "--batch-size 128 is larger than the 64", absent=("out/x",)),
                 id="train-batch-larger-than-data-leaves-no-folder"),
    pytest.param(Case([*FINETUNE, "--from-scratch", "--model", "googlenet", "--cut", "mixed7",
                       "--data", "{tmp}/one"], "googlenet has no feature 'mixed7'",
                      one_class_folder, absent=("out/ft",)),
                 id="finetune-bad-cut-leaves-no-folder"),
    pytest.param(Case(["train", "--resume", "{tmp}/out/run/config.json"],
                      "is a file; give its run folder (--resume {tmp}/out/run)", run_config),
                 id="train-resume-a-file"),
    pytest.param(Case(["train", "--resume", "{tmp}/out/done", "--epochs", "1"],
                      "--epochs 1: {tmp}/out/done has trained 2 epochs already; ask for more "
                      "than 2", finished_run), id="train-resume-with-fewer-epochs-than-done"),
    pytest.param(Case(["train", "--resume", "{tmp}/out/linked"], "is a symbolic link",
                      symlinked_run, absent=("elsewhere/.lock",)),
                 id="train-resume-a-symlink"),
    # -- no confident answer from a broken model
    pytest.param(Case(["predict", "{tmp}/a.png", "--weights", W],
                      "holds NaN or infinite values",
                      lambda env: (nan_weight(env), image(env.tmp / "a.png"))),
                 id="predict-nan-weight"),
    pytest.param(Case(["export", "--weights", W, "--out", "{tmp}/m.onnx"],
                      "holds NaN or infinite values", nan_weight, absent=("m.onnx",)),
                 id="export-nan-weight"),
    pytest.param(Case(["predict", "{tmp}/a.png", "--weights", W], "is int32, not floating point",
                      lambda env: (int_weight(env), image(env.tmp / "a.png"))),
                 id="predict-int-weight"),
    pytest.param(Case(["predict", "{tmp}/a.png", "--weights", W],
                      "3 class names for a 10-class model",
                      lambda env: (weights(env, classes=3), image(env.tmp / "a.png"))),
                 id="predict-class-names-count"),
    pytest.param(Case(["info", W], "inception_z_net", unknown_model_file), id="info-unknown-model"),
    pytest.param(Case(["info", "{tmp}"], "is a directory"), id="info-a-directory"),
    pytest.param(Case(["info", "{tmp}/missing.safetensors"], "no such weights file"),
                 id="info-missing-file"),
    pytest.param(Case([*FINETUNE, "--model", TINY, "--cut", "incep2", "--data", "{tmp}/one"],
                      "--from-scratch", one_class_folder), id="finetune-without-weights"),
    pytest.param(Case([*TRAIN, "--name", "x", "--dataset", "folder", "--data", "{tmp}/one"],
                      "a classifier needs at least 2 classes", one_class_folder,
                      absent=("out/x",)), id="train-one-class-folder"),
    pytest.param(Case([*FINETUNE, "--from-scratch", "--model", TINY, "--cut", "incep2",
                       "--unfreeze", "incep2", "--data", "{tmp}/one"], "--unfreeze-epochs N"),
                 id="finetune-unfreeze-without-epochs"),
    pytest.param(Case(["dream", "--noise", "--model", TINY, "--step-size", "nan", "--out",
                       "{tmp}/d.png"], "a finite positive step", absent=("d.png",)),
                 id="dream-step-size-nan"),
    pytest.param(Case(["dream", "--noise", "--model", TINY, "--jitter", "-3", "--out",
                       "{tmp}/d.png"], "jitter >= 0", absent=("d.png",)),
                 id="dream-negative-jitter"),
    pytest.param(Case(["dream", "--noise", "--model", TINY, "--out", "{tmp}/d.jpg"],
                      "name it .png", absent=("d.jpg",)), id="dream-out-jpg"),
    # A data set's sample instead of an image file (issue 31.5): a bad index writes nothing.
    pytest.param(Case(["dream", "--dataset", "synthetic", "--index", "2000", "--model", TINY,
                       "--out", "{tmp}/d.png"], "--index 2000: synthetic (test) has 2,000 "
                      "images, 0..1999", absent=("d.png", "synthetic-test-2000.png")),
                 id="dream-index-past-the-end"),
    pytest.param(Case(["explain", "--dataset", "synthetic", "--index", "-1", "--model", TINY,
                       "--out", "{tmp}/ex"], "--index -1: synthetic (test) has 2,000",
                      absent=("ex",)), id="explain-negative-index"),
    pytest.param(Case(["explain", "--dataset", "synthetic", "--split", "train", "--index",
                       "10000", "--model", TINY, "--out", "{tmp}/ex"],
                      "synthetic (train) has 10,000 images", absent=("ex",)),
                 id="explain-index-past-a-split"),
    pytest.param(Case(["explain", "--index", "3", "--model", TINY, "--out", "{tmp}/ex"],
                      "--index needs --dataset too", absent=("ex",)),
                 id="explain-index-without-dataset"),
    pytest.param(Case(["explain", "--dataset", "synthetic", "--model", TINY, "--out",
                       "{tmp}/ex"], "--dataset needs --index too", absent=("ex",)),
                 id="explain-dataset-without-index"),
    pytest.param(Case(["explain", "--model", TINY, "--out", "{tmp}/ex"],
                      "give image files or folders, or --dataset", absent=("ex",)),
                 id="explain-nothing-to-explain"),
    pytest.param(Case(["dream", "{tmp}/x.png", "--dataset", "synthetic", "--index", "1",
                       "--model", TINY, "--out", "{tmp}/d.png"], "give an IMAGE to dream on, "
                      "--dataset NAME --index N, or --noise", absent=("d.png",)),
                 id="dream-image-and-dataset"),
    pytest.param(Case(["dream", "--dataset", "mnist", "--data", "{tmp}/none", "--index", "1",
                       "--model", TINY, "--out", "{tmp}/d.png"], "mnist not found",
                      absent=("d.png",)), id="dream-dataset-not-found"),
    pytest.param(Case(["export", TINY, "--format", "onnx", "--out", "{tmp}/m.pt2"],
                      "a onnx file must end in .onnx", absent=("m.pt2",)),
                 id="export-onnx-named-pt2"),
    pytest.param(Case(["eval", "{tmp}/out/run"], "is a folder; give a checkpoint in it",
                      run_config), id="eval-a-run-folder"),
    pytest.param(Case(["convert", "{tmp}", "{tmp}/w.safetensors", "--from", "torchvision"],
                      "is a directory; give the weights file"), id="convert-a-directory"),
    # -- images as people have them
    pytest.param(Case(["predict", "{tmp}/x.png", "--weights", W], "not a regular file", fifo),
                 id="predict-fifo"),
    # -- resource bombs: each bound is said in the message
    pytest.param(Case([*TRAIN, "--workers", "100000"], "--workers must be >= 0 and <= "),
                 id="train-workers-bomb"),
    pytest.param(Case(["export", TINY, "--batch", "100000000", "--out", "{tmp}/m.onnx"],
                      "argument --batch: must be <= 256"), id="export-batch-bomb"),
    pytest.param(Case(["bench", TINY, "--batch", "100000000"], "sizes must be <= 1024"),
                 id="bench-batch-bomb"),
    pytest.param(Case(["finetune", "--from-scratch", "--model", TINY, "--cut", "incep2",
                       "--data", "{tmp}", "--input-size", "100000"],
                      "--input-size must be >= 1 and <= 2048, got 100000"),
                 id="finetune-input-size-bomb"),
    pytest.param(Case([*FINETUNE, "--from-scratch", "--model", "inception_v3", "--cut",
                       "mixed7", "--data", "{tmp}/one", "--input-size", "42"],
                      "--input-size 42: inception_v3 cut at mixed7 takes at least 43x43",
                      one_class_folder, absent=("out/ft",)),
                 id="finetune-input-size-below-the-minimum"),
    pytest.param(Case(["export", TINY, "--input-size", "100000", "--out", "{tmp}/m.onnx"],
                      "--input-size 100000: at most 2048", absent=("m.onnx",)),
                 id="export-input-size-bomb"),
    pytest.param(Case(["bench", TINY, "--input-size", "100000"],
                      "--input-size 100000: at most 2048"), id="bench-input-size-bomb"),
    pytest.param(Case(["cost", "--input", "100000000x100000000x100000000", "--filters",
                       "100000000000", "--reduce", "3"], "sizes too large to count"),
                 id="cost-overflow"),
    pytest.param(Case(["demo", "--output", "{tmp}/file"], "is a file; give a folder", a_file),
                 id="demo-output-a-file"),
    # -- the environment: read-only folders and full disks, in one line naming the path
    pytest.param(Case([*TRAIN, "--output", "{tmp}/ro/runs", "--name", "x"],
                      "{tmp}/ro/runs: Read-only file system", read_only),
                 id="train-read-only"),
    pytest.param(Case(["train", "--resume", "{tmp}/ro/run"],
                      "{tmp}/ro/run/.lock: Read-only file system", read_only_run),
                 id="train-resume-read-only"),
    pytest.param(Case(["eval", W, "--dataset", "synthetic", "--limit", "16", "--out",
                       "{tmp}/ro/eval"], "Read-only file system", read_only,
                      stdout="top-1"), id="eval-read-only-prints-first"),
    pytest.param(Case(["export", TINY, "--format", "pt2", "--out", "{tmp}/full/m.pt2"],
                      "{tmp}/full/m.pt2: No space left on device", full_disk),
                 id="export-pt2-full-disk"),
    pytest.param(Case(["export", TINY, "--format", "onnx", "--out", "{tmp}/full/m.onnx"],
                      "{tmp}/full/m.onnx: No space left on device", full_disk),
                 id="export-onnx-full-disk"),
    pytest.param(Case([*TRAIN, "--output", "{tmp}/full/runs", "--name", "x"],
                      "No space left on device", full_disk), id="train-full-disk"),
    # -- files that are not what they claim: a truncated file under every --from
    *[pytest.param(Case(["convert", T, "{tmp}/out.safetensors", "--from", source], phrase,
                        truncated, absent=("out.safetensors",)), id=f"convert-truncated-{source}")
      for source, phrase in (
          ("torchvision", "trunc.safetensors: cannot load (truncated or corrupt"),
          ("keras", "trunc.safetensors: not an HDF5 file"),
          ("caffe", "trunc.safetensors: corrupt or truncated caffemodel"))],
    pytest.param(Case(["convert", T, "{tmp}/missing/out.safetensors", "--from", "caffe"],
                      "folder {tmp}/missing does not exist", truncated),
                 id="convert-into-a-missing-folder"),
    pytest.param(Case(["convert", T, "{tmp}", "--from", "torchvision"], "{tmp}: is a directory",
                      truncated), id="convert-onto-a-directory"),
    pytest.param(Case(["convert", T, "{tmp}/o.safetensors", "--from", "keras", "--model",
                       "inception_v3"], "keras weights load into inception_v3_keras, "
                      "inception_resnet_v2, not 'inception_v3'", truncated),
                 id="convert-keras-into-the-wrong-model"),
    # A file of another format is named for what it is, not called corrupt.
    *[pytest.param(Case([command, *pre, "{tmp}/m" + suffix, *post], phrase,
                        other_format(suffix)), id=f"{command}-a-{suffix[1:]}-file")
      for command, pre, post, suffix, phrase in (
          ("predict", ["{tmp}/a.png", "--model"], [], ".onnx",
           "m.onnx: an ONNX model (from `googlenet export`), not weights"),
          ("eval", [], ["--dataset", "synthetic"], ".pt2", "m.pt2: a torch.export archive"),
          ("info", [], [], ".h5", "a Keras HDF5 file: import it first, `googlenet convert"),
          ("export", [], ["--out", "{tmp}/x.onnx"], ".pth",
           "a PyTorch pickle: import it first"))],
    pytest.param(Case(["train", "--resume", "{tmp}/run"],
                      "run/config.json: epochs must be an int, got 'two'", string_epochs_run),
                 id="train-resume-a-mistyped-config"),
    # -- flags out of range: each flag with its bad values (checked before any file is read)
    *[pytest.param(Case(["eval", T, *flag], phrase), id="eval" + "".join(flag))
      for flag, phrase in (
          (["--limit", "-5"], "argument --limit: must be >= 1, got -5"),
          (["--limit", "0"], "argument --limit: must be >= 1, got 0"),
          (["--batch-size", "0"], "argument --batch-size: must be >= 1"),
          (["--device", "bogus"], "device 'bogus': expected auto, cpu"))],
    *[pytest.param(Case([*TRAIN, *flag], phrase, absent=("out",)), id="train" + "".join(flag))
      for flag, phrase in (
          (["--train-limit", "-5"], "--train-limit must be >= 1, got -5"),
          (["--resize-schedule", "20"], "--resize-schedule must be SIZE:FRACTION,..."),
          (["--resize-schedule", "20:0.6,24:0.5"], "--resize-schedule fractions must sum"),
          (["--resize-schedule", "20:0.5"], "inception_a_net takes images of at least 28 px"),
          (["--train-limit", "0"], "--train-limit must be >= 1, got 0"),
          (["--eval-limit", "0"], "--eval-limit must be >= 1, got 0"),
          (["--dropout", "1.5"], "--dropout must be >= 0 and < 1, got 1.5"),
          (["--momentum", "-1"], "--momentum must be >= 0 and < 1, got -1.0"),
          (["--label-smoothing", "2"], "--label-smoothing must be >= 0 and < 1"),
          (["--step-epochs", "0"], "--step-epochs must be > 0, got 0.0"),
          (["--threads", "-2"], "--threads must be >= 1, got -2"),
          (["--threads", "0"], "--threads must be >= 1, got 0"),
          (["--workers", "-1"], "--workers must be >= 0 and <= "),
          (["--width", "0"], "--width must be > 0, got 0.0"),
          (["--width", "-1"], "--width must be > 0, got -1.0"),
          (["--weight-decay", "-1"], "--weight-decay must be >= 0"),
          (["--warmup-epochs", "-1"], "--warmup-epochs must be >= 0"),
          (["--mixup", "-1"], "--mixup must be >= 0"),
          (["--cutmix", "-1"], "--cutmix must be >= 0"),
          (["--grad-clip", "-1"], "--grad-clip must be >= 0"),
          (["--shift", "5"], "--shift must be >= 0 and < 1, got 5.0"),
          (["--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
          (["--device", "bogus"], "--device must be auto, cpu, cuda or cuda:N, got 'bogus'"),
          (["--name", "../escape"], "--name must be a plain folder name inside --output"),
          (["--hidden", "32"], "--hidden describes a fine-tuning head; give --cut"))],
    pytest.param(Case([*TRAIN, "--device", "cuda"], "device 'cuda': "), id="train-device-cuda",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is here")),
    *[pytest.param(Case([*COST, *flag], phrase), id="cost" + "".join(flag))
      for flag, phrase in (
          (["--filters", "0"], "argument --filters: must be >= 1, got 0"),
          (["--kernel", "-1"], "argument --kernel: must be >= 1, got -1"),
          (["--reduce", "-4"], "argument --reduce: must be >= 1, got -4"),
          (["--input", "28x28"], "HxWxC"),
          (["--input", "axb"], "cannot read size"))],
    pytest.param(Case(["export", TINY, "--batch", "0", "--out", "{tmp}/m.onnx"],
                      "argument --batch: must be >= 1, got 0", absent=("m.onnx",)),
                 id="export-batch-0"),
    pytest.param(Case(["export", TINY, "--format", "pt2", "--out", "{tmp}"],
                      "{tmp}: is a directory"), id="export-onto-a-directory"),
    pytest.param(Case(["predict", "{tmp}/cat.png", "--weights", T, "--topk", "0"],
                      "argument --topk: must be >= 1, got 0", truncated), id="predict-topk-0"),
    *[pytest.param(Case(["bench", *argv], phrase, setup), id=name)
      for name, argv, phrase, setup in (
          ("bench-unknown-path", [TINY, "--paths", "turbo"], "turbo", None),
          ("bench-batch-0", [TINY, "--batch", "0"], "--batch", None),
          ("bench-junk-weights", ["--weights", J], "junk.safetensors: not a readable", junk),
          ("bench-bare-state-dict", ["--weights", "{tmp}/bare.safetensors"],
           "no googlenet metadata", bare_state_dict),
          ("bench-unknown-baseline", ["googlenet_cifar", "--baseline", "nosuchnet"],
           "nosuchnet", None),
          ("bench-baseline-another-network", [TINY, "--baseline", "googlenet_bn"],
           "--baseline googlenet_bn: not the same network as inception_a_net", None),
          ("bench-all-and-paths", [TINY, "--all", "--paths", "fused"], "--all", None))],
    pytest.param(Case(["eval", J, "--dataset", "synthetic"], "junk.safetensors: not a readable",
                      junk), id="eval-junk-checkpoint"),
    pytest.param(Case(["summary", "googlenet_bm"], "did you mean googlenet_bn"),
                 id="summary-misspelt-model"),
    pytest.param(Case(["summary", "googlenet", "--input-size", "20"], "minimum 31x31"),
                 id="summary-input-below-the-minimum"),
    pytest.param(Case([*SCRATCH, "--model", "googlenet_bn", "--cut", "inception_4e", "--data",
                       "{tmp}", "--input-size", "0"],
                      "--input-size must be >= 1 and <= 2048, got 0"), id="finetune-input-size-0"),
    pytest.param(Case([*SCRATCH, "--model", "googlenet_bn", "--data", "{tmp}"],
                      "--cut is required"), id="finetune-without-cut"),
    # The README's old example: mixed9 lies after the cut; refused before any data is read.
    pytest.param(Case([*SCRATCH, "--model", "inception_v3", "--cut", "mixed7", "--unfreeze",
                       "mixed9", "--unfreeze-epochs", "1", "--data", "{tmp}/nowhere"],
                      "cannot unfreeze 'mixed9'"), id="finetune-unfreeze-after-the-cut"),
]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    mounts: list[Path] = []
    yield Env(tmp_path, mounts)
    for where in reversed(mounts):
        with contextlib.suppress(OSError):
            subprocess.run(["umount", str(where)], check=False, capture_output=True)


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case: Case, env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    if case.setup is not None:
        case.setup(env)
        capsys.readouterr()  # what a setup printed is not the case's
    tmp = str(env.tmp)
    code = main([a.format(tmp=tmp) for a in case.argv])
    out, err = capsys.readouterr()
    assert code == case.code, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    assert case.phrase.format(tmp=tmp) in err, err
    assert case.stdout in out, out
    for path in case.absent:
        assert not (env.tmp / path).exists(), f"{path} was created"
    # Nothing half-written: no temporary file of an atomic write is left anywhere.
    left = [p for p in env.tmp.rglob(".*.tmp*") if p.is_file()]
    assert not left, left


def _run_process(argv: list[str], memory_limit: int | None = None,
                 ) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # a case that would allocate 120 GB must fail, not swap
        if memory_limit:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    return subprocess.run([sys.executable, "-m", "googlenet", *argv], capture_output=True,
                          text=True, timeout=300, preexec_fn=limit,
                          env={**os.environ, "PYTHONWARNINGS": "default"})


def _one_line(proc: subprocess.CompletedProcess[str], phrase: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert phrase in proc.stderr, proc.stderr


def test_console_entry_point_prints_one_line() -> None:
    """The table runs in-process; the console entry point says the same in one line, and
    no warning reaches stderr (PYTHONWARNINGS=default shows each once)."""
    _one_line(_run_process(["train", "--dropout", "1.5"]), "--dropout must be >= 0 and < 1")


def test_summary_of_a_huge_input_is_one_line() -> None:
    """Refused before it allocates: under a 16 GiB address-space limit, not in the swap."""
    _one_line(_run_process(["summary", "googlenet_bn", "--input-size", "100000"],
                           memory_limit=16 << 30), "100000")
