"""Non-finite input and weights on the inference paths (issue 31).

Fused conv+ReLU kernels (oneDNN, winograd, bf16) turn a NaN pixel into finite logits where
eager gives NaN, so the runner refuses non-finite input on every path, in the one place
all of them go through (:class:`InferenceRunner`). Models held in another dtype than
float32 are refused by fusion up front, and checks of exports treat a NaN difference as
a failure.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from googlenet.deploy import build_path, unavailable_reason
from googlenet.deploy.bench import check_outputs
from googlenet.deploy.export import ExportError, check_program, export_program
from googlenet.deploy.optimize import PATHS
from googlenet.errors import NonFiniteInputError, WeightsError
from googlenet.models import create_model

# Compiled paths spend minutes in Inductor and int8 needs calibration; they share the
# same runner class, whose check runs before the path's own function.
QUICK = [p for p, info in PATHS.items() if not info.compiled and "int8" not in p]


@pytest.fixture(scope="module")
def model() -> nn.Module:
    torch.manual_seed(0)
    return create_model("inception_a_net").eval()


@pytest.mark.parametrize("path", QUICK)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_every_path_refuses_non_finite_input(model: nn.Module, path: str, bad: float) -> None:
    reason = unavailable_reason(path)
    if reason:
        pytest.skip(f"{path}: {reason}")
    x = torch.randn(2, 1, 28, 28)
    runner = build_path(path, model, x)
    assert torch.isfinite(runner(x)).all()  # a finite batch still runs
    x[1, 0, 5, 7] = bad
    with pytest.raises(NonFiniteInputError, match=f"{path}: the input images hold NaN"):
        runner(x)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float64])
def test_fused_paths_refuse_a_model_in_another_dtype(model: nn.Module,
                                                     dtype: torch.dtype) -> None:
    held = create_model("inception_a_net").to(dtype).eval()
    with pytest.raises(WeightsError, match=f"held in {dtype}; inference takes a float32"):
        build_path("fused", held, torch.randn(1, 1, 28, 28))


class _Nan(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :4] * float("nan")


def test_a_nan_difference_fails_the_export_check(tmp_path, model: nn.Module) -> None:
    class Head(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.flatten(1)[:, :4]

    x = torch.randn(2, 1, 28, 28)
    path = export_program(Head(), tmp_path / "m.pt2", x, fuse=False)
    assert check_program(Head(), path, x) == 0.0
    with pytest.raises(ExportError, match="differ from eager by nan"):
        check_program(_Nan(), path, x)


def test_a_nan_difference_fails_the_bench_check() -> None:
    ref = torch.randn(8, 10)
    nan = ref.clone()
    nan[0, 3] = float("nan")
    for path in ("fused", "bf16"):  # a tolerance check and an agreement check
        assert check_outputs(path, ref, ref)[2]
        assert not check_outputs(path, ref, nan)[2]
        assert not check_outputs(path, nan, nan)[2]
