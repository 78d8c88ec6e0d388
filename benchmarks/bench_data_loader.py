"""Time one shuffled epoch of TensorBatchLoader against a per-item DataLoader.

Usage: PYTHONPATH=. python benchmarks/bench_data_loader.py [--dataset fashion-mnist]
Prints one JSON line (best of 3 epochs each); the speed-up is measured in the same run
because the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch.utils.data import DataLoader

from googlenet.data import TensorBatchLoader, collate_uint8, default_dataset


def _epoch_seconds(loader: object) -> float:
    start = time.perf_counter()
    for _x, _y in loader:  # type: ignore[attr-defined]
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    ds = default_dataset("train")
    fast = TensorBatchLoader(ds, args.batch_size, shuffle=True)
    slow = DataLoader(ds, batch_size=args.batch_size, shuffle=True, collate_fn=collate_uint8,
                      generator=torch.Generator().manual_seed(0))
    t_fast = min(_epoch_seconds(fast) for _ in range(3))
    t_slow = min(_epoch_seconds(slow) for _ in range(3))
    print(json.dumps({"dataset": ds.source, "items": len(ds), "batch_size": args.batch_size,
                      "tensor_batch_loader_s": round(t_fast, 4),
                      "dataloader_per_item_s": round(t_slow, 4),
                      "speedup": round(t_slow / t_fast, 1)}))


if __name__ == "__main__":
    main()
