"""Where the time of a training step goes, by kind of layer: conv, BN, pooling, concat, the
optimizer, ... from one ``torch.profiler`` trace.

Each traced event's own (self) CPU time is given to a category: the category of the phase
it runs in (the optimizer's ``Optimizer.step``, the trainer's ``train_step.augment`` and
``train_step.ema``, see engine.py), else that of the nearest enclosing event whose name
says what it is (``aten::batch_norm`` holds the ``aten::empty`` it allocates with;
``autograd::engine::evaluate_function: CatBackward0`` holds the slicing that
differentiates a concat). Self times add up to the traced time without double counting,
so the categories sum to the step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from torch.profiler import ProfilerActivity, profile

# A phase of the step named by a record_function around it: everything inside it is that
# phase, whatever the ops are (the optimizer's foreach adds are not "other").
PHASES: tuple[tuple[str, str], ...] = (
    ("optimizer.", "optimizer"),  # Optimizer.step#SGD.step, Optimizer.zero_grad#SGD.zero_grad
    ("train_step.augment", "augment"),
    ("train_step.ema", "ema"),
)
# Op categories, by lower-case substrings of the event's name, first match wins: forward
# ops (aten::conv2d), their backward nodes (ConvolutionBackward0) and backends' kernels
# (mkldnn::_convolution_pointwise, Inductor's compiled graphs).
OP_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("conv", ("conv",)),
    ("bn", ("batch_norm", "batchnorm")),
    ("pool", ("pool",)),
    ("cat", ("aten::cat", "aten::_cat", "catbackward")),
    ("relu", ("relu", "threshold_backward")),
    ("linear", ("addmm", "aten::linear", "aten::mm", "mmbackward")),
    ("loss", ("log_softmax", "logsoftmax", "nll_loss", "nllloss", "cross_entropy")),
    ("dropout", ("dropout", "bernoulli")),
    ("cast", ("_to_copy",)),  # autocast's bf16 <-> fp32 copies
    ("compiled", ("compiledfxgraph", "compiledfunction", "torch-compiled region",
                  "cpp_fused")),  # Inductor's fused kernels (the code it generated)
)
OTHER = "other"


class _Event(Protocol):
    """What this module reads of a profiler ``FunctionEvent``."""

    name: str
    self_cpu_time_total: float
    cpu_parent: _Event | None


def _match(name: str) -> str | None:
    low = name.lower()
    return next((cat for cat, keys in OP_CATEGORIES if any(k in low for k in keys)), None)


def _phase(name: str) -> str | None:
    low = name.lower()
    return next((cat for prefix, cat in PHASES if low.startswith(prefix)), None)


def categorize(event: _Event) -> str:
    """The category of ``event``'s self time (see the module docstring)."""
    chain: list[_Event] = []
    e: _Event | None = event
    while e is not None:
        chain.append(e)
        e = e.cpu_parent
    for ancestor in chain:
        phase = _phase(ancestor.name)
        if phase is not None:
            return phase
    return next((cat for cat in map(_match, (a.name for a in chain)) if cat), OTHER)


def breakdown(events: Iterable[_Event], steps: int) -> dict[str, float]:
    """Milliseconds per step in each category, largest first."""
    totals: dict[str, float] = {}
    for ev in events:
        cat = categorize(ev)
        totals[cat] = totals.get(cat, 0.0) + ev.self_cpu_time_total / 1000.0 / steps
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def profile_steps(step: Callable[[], object], steps: int) -> dict[str, float]:
    """Run ``step`` ``steps`` times under the CPU profiler; its :func:`breakdown`."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    return breakdown(prof.events(), steps)
