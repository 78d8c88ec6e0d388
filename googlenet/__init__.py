"""googlenet: GoogLeNet (Inception v1) and its successors, built from the paper's tables."""

from __future__ import annotations

__version__ = "0.1.0"
