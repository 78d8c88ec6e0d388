"""``googlenet bench`` and ``googlenet export`` end to end on a tiny model."""

import importlib
import json
from contextlib import redirect_stderr
from pathlib import Path

import pytest
import torch

from googlenet.cli import main
from googlenet.deploy import bench
from googlenet.models import build_model, get_model_info
from googlenet.recipe import ModelRecipe
from googlenet.weights import WeightsMeta, save_weights


def test_bench_json_reports_every_path_and_batch(capsys):
    # fp32 paths only: a random-init model's bf16 top-1 agreement may fall below its
    # tolerance, which bench rightly reports with exit status 1.
    code = main(["bench", "inception_a_net", "--batch", "1,4", "--rounds", "1",
                 "--paths", "fused,channels_last,onnxruntime", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["model"] == "inception_a_net" and data["input_size"] == 28
    rows = {(r["path"], r["batch"]): r for r in data["results"]}
    assert set(rows) == {(p, b) for p in ("eager", "fused", "channels_last", "onnxruntime")
                         for b in (1, 4)}
    for r in rows.values():
        if r["skipped"]:
            continue
        assert r["images_per_s"] > 0 and r["ratio"] > 0 and r["tolerance"]
    assert rows[("eager", 4)]["ratio"] == 1.0
    assert rows[("fused", 4)]["passed"] is True and rows[("fused", 4)]["max_abs_diff"] < 1e-4
    from googlenet.deploy import native

    assert data["kernels"] == native.isa()  # which build the winograd path runs, or None


def test_bench_text_and_weights(capsys, tmp_path):
    recipe = ModelRecipe("inception_a_net")
    meta = WeightsMeta(recipe, tuple("0123456789"),
                       get_model_info("inception_a_net").preprocessing)
    save_weights(tmp_path / "w.safetensors", build_model(recipe).state_dict(), meta)
    code = main(["bench", "--batch", "2", "--rounds", "1", "--paths", "fused",
                 "--weights", str(tmp_path / "w.safetensors")])
    out = capsys.readouterr().out
    assert code == 0 and "fused" in out and "x eager" in out and "random init" not in out


def test_bench_exits_1_when_a_path_fails_its_tolerance(capsys, monkeypatch):

    real = bench.check_outputs

    def fused_fails(path, ref, out):
        diff, agreement, passed = real(path, ref, out)
        return diff, agreement, passed and path != "fused"

    monkeypatch.setattr(bench, "check_outputs", fused_fails)
    code = main(["bench", "inception_a_net", "--batch", "2", "--rounds", "1",
                 "--paths", "fused", "--baseline", "none"])
    captured = capsys.readouterr()
    assert code == 1 and "FAIL" in captured.out
    assert "fused at batch 2 is outside its tolerance (max |logit diff|" in captured.err


def test_export_command_writes_checked_files(capsys, tmp_path):
    for fmt in ("onnx", "pt2"):
        out = tmp_path / f"m.{fmt}"
        code = main(["export", "inception_a_net", "--format", fmt, "--out", str(out),
                     "--json"])
        data = json.loads(capsys.readouterr().out)
        assert code == 0 and out.is_file() and data["max_abs_diff"] < 1e-4


def test_bench_and_export_show_progress_only_on_a_terminal(fake_tty, capsys, tmp_path):
    with redirect_stderr(fake_tty):
        assert main(["bench", "inception_a_net", "--batch", "2", "--rounds", "1",
                     "--paths", "fused", "--json"]) == 0
        assert main(["export", "inception_a_net", "--format", "pt2",
                     "--out", str(tmp_path / "m.pt2")]) == 0
    drawn = fake_tty.getvalue()
    # bench: a step per build and per path, batch and round, with an ETA.
    assert "\rbench inception_a_net [" in drawn and "6/6" in drawn and "ETA" in drawn
    assert "batch 2 round 1/1 fused" in drawn
    # export: named steps with the time so far, then each step's time.
    for step in ("fusing...", "tracing...", "saving...", "checking..."):
        assert step in drawn
    assert "done in" in drawn and "checking 0:" in drawn
    assert main(["export", "inception_a_net", "--format", "pt2",
                 "--out", str(tmp_path / "m.pt2")]) == 0
    assert "\r" not in capsys.readouterr().err


def test_bench_baseline_is_timed_in_the_same_rounds(capsys):
    # What users would otherwise run joins the rounds as its own row; every path gets
    # its ratio to it. The baseline here is the same small network, so its speed
    # equals eager's within noise, and "x base" is the ratio of measured times.
    code = main(["bench", "googlenet_cifar", "--batch", "2", "--rounds", "1", "--input-size",
                 "16", "--paths", "fused", "--baseline", "googlenet_cifar", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["baseline"].startswith("googlenet_cifar eager fp32")
    rows = {r["path"]: r for r in data["results"]}
    assert set(rows) == {"eager", "fused"} and all(r["passed"] for r in rows.values())
    (base,) = data["baseline_results"]
    assert base["path"] == "baseline" and base["ratio_baseline"] == 1.0
    for r in rows.values():
        expected = r["images_per_s"] / base["images_per_s"]
        assert abs(r["ratio_baseline"] - expected) < 1e-6 * expected
    main(["bench", "googlenet_cifar", "--batch", "2", "--rounds", "1", "--paths", "fused",
          "--input-size", "16", "--baseline", "googlenet_cifar"])
    assert "x base" in capsys.readouterr().out
    # A model that is its own reference gets no baseline by default: x eager is that.
    assert main(["bench", "inception_a_net", "--batch", "2", "--rounds", "1",
                 "--paths", "fused", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["baseline"] is None
    assert "no baseline: inception_a_net is its own reference" in err


def test_the_baseline_is_the_same_network_at_the_same_size(capsys):
    # Another network's speed says nothing about this one's paths: refused (the table in
    # tests/test_bad_inputs.py).
    # The paper's googlenet is compared with torchvision's layout of it, on its own images.
    reference, note = bench.baseline_for("auto", "googlenet", 3, 160)
    assert note is None and reference is not None
    assert reference[0] == "googlenet_bn eager fp32 NCHW at 160x160, random init"
    assert bench.baseline_for("auto", "inception_v3", 3, 150)[0] is None
    assert bench.baseline_for("auto", "googlenet_bn", 3, 224)[0] is not None
    assert bench.baseline_for("googlenet", "googlenet_bn", 3, 224)[0] is not None


def test_default_paths_leave_out_the_compiled_ones():
    from googlenet.commands import bench as command
    from googlenet.deploy.optimize import PATHS

    default = command.default_paths()
    assert "compiled" not in default and "int8" not in default and "fused" in default
    assert set(default) == {p for p in PATHS if not PATHS[p].compiled}
    assert command._paths(None, everything=True) == list(PATHS)
    assert command._paths("compiled") == ["compiled"]


def test_bench_reports_the_spread_across_rounds(capsys):
    assert main(["bench", "inception_a_net", "--batch", "2", "--rounds", "3",
                 "--paths", "fused", "--json"]) == 0
    for r in json.loads(capsys.readouterr().out)["results"]:
        assert 0 < r["latency_min_ms"] <= r["latency_ms"] <= r["latency_max_ms"]
    assert main(["bench", "inception_a_net", "--batch", "2", "--rounds", "2",
                 "--paths", "fused"]) == 0
    assert "rounds min-max" in capsys.readouterr().out


def test_agreement_with_a_constant_model_is_no_check(capsys, tmp_path):
    # A classifier with zero weights answers the same for every image: bench says no check
    # means anything and fails, instead of "100% agreement ... ok".
    recipe = ModelRecipe("inception_a_net")
    state = build_model(recipe).state_dict()
    fc = [k for k in state if k.endswith("weight") and state[k].ndim == 2][-1]
    state[fc].zero_()
    meta = WeightsMeta(recipe, tuple("0123456789"),
                       get_model_info("inception_a_net").preprocessing)
    save_weights(tmp_path / "flat.safetensors", state, meta)
    assert main(["bench", "--weights", str(tmp_path / "flat.safetensors"), "--batch", "2",
                 "--rounds", "1", "--paths", "fused", "--json"]) == 1
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["reference_constant"] is True and "ignores its input" in \
        data["reference_problem"]
    assert all(r["passed"] is None for r in data["results"])
    assert "error: eager's outputs are degenerate" in err


def test_degenerate_outputs_are_told_apart():
    assert bench.degenerate_outputs(torch.randn(8, 10)) == (None, False)
    reason, constant = bench.degenerate_outputs(torch.ones(8, 10))
    assert constant and "ignores its input" in reason
    assert bench.degenerate_outputs(torch.full((4, 3), float("nan")))[1] is True
    one_class = torch.randn(8, 10)
    one_class[:, 3] += 100
    reason, constant = bench.degenerate_outputs(one_class)
    assert not constant and "class 3 to all 8" in reason


def test_bench_reports_a_refused_int8_graph_as_skipped(capsys, monkeypatch):
    # A compiled int8 graph that changes the quantized graph's decisions (googlenet's did,
    # before the floor-mode pools) is refused: bench says why instead of timing it.
    from googlenet.deploy.quantize import CompiledInt8Error

    real = bench.build_path

    def build(path, *args, **kwargs):
        if path == "fused":
            raise CompiledInt8Error("int8: the compiled graph agrees with the quantized one "
                                    "on 10% of the calibration images")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(bench, "build_path", build)
    assert main(["bench", "inception_a_net", "--batch", "2", "--rounds", "1",
                 "--paths", "fused", "--json"]) == 0
    rows = {r["path"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert "agrees with the quantized one on 10%" in rows["fused"]["skipped"]
    assert rows["eager"]["images_per_s"] > 0


@pytest.mark.slow
def test_int8_anatomy_script_smoke(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))  # benchmarks/
    script = importlib.import_module("benchmarks.int8_anatomy")
    out = tmp_path / "anatomy.json"
    assert script.main(["--size", "32", "--batch", "2", "--calls", "1", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    for path in ("int8", "fused", "onnxruntime_int8"):
        assert 0 < data[path]["conv_ms"] <= data[path]["ms_per_batch"]
    for name in ("onnxruntime_int8", "onnxruntime_int8_quantizer_only"):
        ort = data[name]
        assert 0 < ort["stem_conv_ms"] < ort["conv_ms"]
        assert ort["by_node_type_ms"]["QLinearConv"] > 0
        assert 0 <= ort["logits_vs_fp32"]["common_offset_share"] <= 1
        assert all(ms > 0 for ms in ort["wall_ms_per_batch"].values())
    assert data["logit_distance"]["compiled_vs_quantized"] < 0.05


def test_the_ceiling_on_onednn_is_recorded(monkeypatch):
    # A figure taken with ONEDNN_MAX_CPU_ISA=AVX2 (an AVX2-only CPU, emulated) says so.
    for name in (bench.ONEDNN_ISA_SWITCH, "DNNL_MAX_CPU_ISA"):
        monkeypatch.delenv(name, raising=False)
    assert bench.onednn_max_isa() is None
    monkeypatch.setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE")  # the older name
    assert bench.onednn_max_isa() == "AVX512_CORE"
    monkeypatch.setenv(bench.ONEDNN_ISA_SWITCH, "AVX2")
    report = bench.BenchReport("inception_a_net", 28, "cpu", 1, torch.__version__, "x86_64",
                               False, onednn_max_isa=bench.onednn_max_isa())
    assert report.as_dict()["onednn_max_isa"] == "AVX2"
    assert "oneDNN limited to AVX2 (ONEDNN_MAX_CPU_ISA)" in bench.render(report)
    plain = bench.BenchReport("inception_a_net", 28, "cpu", 1, torch.__version__, "x86_64", False)
    assert "oneDNN" not in bench.render(plain)
