"""Bad input on the command line: exit status 2 and one stderr line naming the file or flag.

Each case runs through ``googlenet.cli.main`` in-process (fast); the stderr it checks is
everything the command printed there, unfiltered. Two cases run as real processes: one to
show the console entry point says the same in one line, one that must not take this
process's memory with it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from googlenet.cli import main

# Small enough that a case whose check is missing fails fast instead of training for long.
TRAIN = ["train", "--dataset", "synthetic", "--epochs", "1", "--train-limit", "64",
         "--eval-limit", "32", "--output", "{tmp}/runs", "--progress", "false",
         "--report", "false"]
COST = ["cost", "--input", "28x28x192", "--filters", "32", "--reduce", "16"]
SCRATCH = ["finetune", "--from-scratch"]  # what the finetune cases below check comes after
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")

# (argv, a piece of the message that names the flag or file and the problem)
CASES = [
    # convert: a truncated file under every --from, then destinations it cannot write
    (["convert", "{trunc}", "{tmp}/out.safetensors", "--from", "torchvision"],
     "trunc.safetensors: cannot load (truncated or corrupt"),
    (["convert", "{trunc}", "{tmp}/out.safetensors", "--from", "keras"],
     "trunc.safetensors: not an HDF5 file"),
    (["convert", "{trunc}", "{tmp}/out.safetensors", "--from", "caffe"],
     "trunc.safetensors: corrupt or truncated caffemodel"),
    (["convert", "{trunc}", "{tmp}/missing/out.safetensors", "--from", "caffe"],
     "folder {tmp}/missing does not exist"),
    (["convert", "{trunc}", "{tmp}", "--from", "torchvision"], "{tmp}: is a directory"),
    # eval (the flags are checked before the checkpoint is read)
    (["eval", "{trunc}", "--limit", "-5"], "argument --limit: must be >= 1, got -5"),
    (["eval", "{trunc}", "--limit", "0"], "argument --limit: must be >= 1, got 0"),
    (["eval", "{trunc}", "--batch-size", "0"], "argument --batch-size: must be >= 1"),
    (["eval", "{trunc}", "--device", "bogus"], "device 'bogus': expected auto, cpu"),
    # train: the run's config.json, then every flag TrainConfig.validate() refuses
    (["train", "--resume", "{run}"], "run/config.json: epochs must be an int, got 'two'"),
    ([*TRAIN, "--train-limit", "-5"], "--train-limit must be >= 1, got -5"),
    ([*TRAIN, "--train-limit", "0"], "--train-limit must be >= 1, got 0"),
    ([*TRAIN, "--eval-limit", "0"], "--eval-limit must be >= 1, got 0"),
    ([*TRAIN, "--dropout", "1.5"], "--dropout must be >= 0 and < 1, got 1.5"),
    ([*TRAIN, "--momentum", "-1"], "--momentum must be >= 0 and < 1, got -1.0"),
    ([*TRAIN, "--label-smoothing", "2"], "--label-smoothing must be >= 0 and < 1"),
    ([*TRAIN, "--step-epochs", "0"], "--step-epochs must be > 0, got 0.0"),
    ([*TRAIN, "--threads", "-2"], "--threads must be >= 1, got -2"),
    ([*TRAIN, "--threads", "0"], "--threads must be >= 1, got 0"),
    ([*TRAIN, "--workers", "-1"], "--workers must be >= 0 and <= "),
    ([*TRAIN, "--width", "0"], "--width must be > 0, got 0.0"),
    ([*TRAIN, "--width", "-1"], "--width must be > 0, got -1.0"),
    ([*TRAIN, "--weight-decay", "-1"], "--weight-decay must be >= 0"),
    ([*TRAIN, "--warmup-epochs", "-1"], "--warmup-epochs must be >= 0"),
    ([*TRAIN, "--mixup", "-1"], "--mixup must be >= 0"),
    ([*TRAIN, "--cutmix", "-1"], "--cutmix must be >= 0"),
    ([*TRAIN, "--grad-clip", "-1"], "--grad-clip must be >= 0"),
    ([*TRAIN, "--shift", "5"], "--shift must be >= 0 and < 1, got 5.0"),
    ([*TRAIN, "--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
    ([*TRAIN, "--device", "bogus"], "--device must be auto, cpu, cuda or cuda:N, got 'bogus'"),
    pytest.param([*TRAIN, "--device", "cuda"], "device 'cuda': ", marks=NO_CUDA),
    # cost, export, predict, summary
    ([*COST, "--filters", "0"], "argument --filters: must be >= 1, got 0"),
    ([*COST, "--kernel", "-1"], "argument --kernel: must be >= 1, got -1"),
    ([*COST, "--reduce", "-4"], "argument --reduce: must be >= 1, got -4"),
    (["cost", "--input", "28x28", "--filters", "3", "--reduce", "2"], "HxWxC"),
    (["cost", "--input", "axb", "--filters", "3", "--reduce", "2"], "cannot read size"),
    (["export", "inception_a_net", "--batch", "0", "--out", "{tmp}/m.onnx"],
     "argument --batch: must be >= 1, got 0"),
    (["export", "inception_a_net", "--format", "pt2", "--out", "{tmp}"], "{tmp}: is a directory"),
    (["predict", "{tmp}/cat.png", "--weights", "{trunc}", "--topk", "0"],
     "argument --topk: must be >= 1, got 0"),
    (["summary", "googlenet_bm"], "did you mean googlenet_bn"),
    ([*SCRATCH, "--model", "googlenet_bn", "--cut", "inception_4e", "--data", "{tmp}",
      "--input-size", "0"], "--input-size must be >= 1 and <= 2048, got 0"),
    ([*SCRATCH, "--model", "googlenet_bn", "--data", "{tmp}"], "--cut is required"),
    # The README's old example: mixed9 lies after the cut; refused before any data is read.
    ([*SCRATCH, "--model", "inception_v3", "--cut", "mixed7", "--unfreeze", "mixed9",
      "--unfreeze-epochs", "1", "--data", "{tmp}/nowhere"], "cannot unfreeze 'mixed9'"),
    ([*SCRATCH, "--model", "googlenet", "--cut", "mixed7", "--data", "{tmp}/nowhere"],
     "googlenet has no feature 'mixed7'"),
    (["convert", "{trunc}", "{tmp}/o.safetensors", "--from", "keras", "--model",
      "inception_v3"],
     "keras weights load into inception_v3_keras, inception_resnet_v2, not 'inception_v3'"),
    ([*TRAIN, "--name", "../escape"], "--name must be a plain folder name inside --output"),
    ([*TRAIN, "--hidden", "32"], "--hidden describes a fine-tuning head; give --cut"),
    (["summary", "googlenet", "--input-size", "20"], "minimum 31x31"),
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """What the cases refer to: a truncated safetensors file, a run whose config.json has
    a string for an int, and the folder itself."""
    good = tmp_path / "good.safetensors"
    save_file({"w": torch.zeros(64, 64)}, str(good))
    data = good.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text('{"epochs": "two"}\n')
    return {"tmp": str(tmp_path), "trunc": str(tmp_path / "trunc.safetensors"),
            "run": str(run)}


def _check_one_line(code: int, err: str, needle: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.endswith("\n"), err
    assert needle in err, err


@pytest.mark.parametrize("argv, needle", CASES)
def test_bad_input_is_one_line_and_exit_2(capsys, files, argv, needle):
    code = main([a.format(**files) for a in argv])
    _check_one_line(code, capsys.readouterr().err, needle.format(**files))


def _run_process(argv: list[str], memory_limit: int | None = None,
                 ) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # a case that would allocate 120 GB must fail, not swap
        if memory_limit:
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    return subprocess.run([sys.executable, "-m", "googlenet", *argv], capture_output=True,
                          text=True, timeout=300, preexec_fn=limit,
                          env={**os.environ, "PYTHONWARNINGS": "default"})


def test_console_entry_point_prints_one_line():
    # PYTHONWARNINGS=default shows every warning once: none may reach stderr here.
    proc = _run_process(["train", "--dropout", "1.5"])
    _check_one_line(proc.returncode, proc.stderr, "--dropout must be >= 0 and < 1")


def test_summary_of_a_huge_input_is_one_line():
    proc = _run_process(["summary", "googlenet_bn", "--input-size", "100000"],
                        memory_limit=16 << 30)
    _check_one_line(proc.returncode, proc.stderr, "100000")
