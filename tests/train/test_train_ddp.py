"""`googlenet train` under torchrun: 2 CPU processes (gloo) reach the weights 1 process
reaches with the same global batch.

inception_a_net has no BatchNorm and no dropout, so each step's gradient depends only on
which samples are in the global batch: with each rank taking every 2nd item of the same
seeded permutation and DDP averaging the two half-batch gradients, the 2-process step is
the 1-process step up to float summation order.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from googlenet.models import create_model
from googlenet.train import fit
from googlenet.weights import load_state_dict

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(600)  # ~20 s on 2 idle cores; far more on an overloaded one
def test_two_process_ddp_matches_one_process(tiny_config, tmp_path):
    cfg = tiny_config(name="one", epochs=2, ema_decay=0.9, threads=1, lr=0.02)
    one = fit(cfg)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
           "--master_addr=127.0.0.1", f"--master_port={_free_port()}",
           "-m", "googlenet", "train", "--model", cfg.model, "--dataset", cfg.dataset,
           "--epochs", "2", "--batch-size", str(cfg.batch_size),
           "--train-limit", str(cfg.train_limit), "--eval-limit", str(cfg.eval_limit),
           "--eval-batch-size", str(cfg.eval_batch_size), "--lr", str(cfg.lr),
           "--schedule", cfg.schedule, "--ema-decay", "0.9", "--seed", str(cfg.seed),
           "--threads", "1", "--output", cfg.output, "--name", "two", "--report", "false",
           "--progress", "false"]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=560)
    assert proc.returncode == 0, proc.stderr[-3000:]
    two_dir = Path(cfg.output) / "two"
    # Rank 0 alone writes: one line per epoch, one set of files.
    assert proc.stdout.count("epoch 2/2:") == 1
    a, b = (load_state_dict(d / "last.safetensors")[0] for d in (one.run_dir, two_dir))
    torch.manual_seed(cfg.seed)  # the initial weights, as fit() draws them
    init = create_model(cfg.model, num_classes=10, in_chans=1).state_dict()
    assert a.keys() == b.keys() == init.keys()
    moved = max(float((a[k] - init[k]).abs().max()) for k in a)
    assert moved > 1e-3  # training really changed the weights, far beyond the tolerance
    for k in a:
        assert torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-5), k
    hist_a = json.loads((one.run_dir / "metrics.json").read_text())
    hist_b = json.loads((two_dir / "metrics.json").read_text())
    for ra, rb in zip(hist_a, hist_b, strict=True):
        # train metrics are all-reduced over both ranks; eval is split across them.
        for key in ("train_loss", "train_acc", "val_loss", "val_acc", "val_top5"):
            assert ra[key] == pytest.approx(rb[key], abs=1e-4), key
