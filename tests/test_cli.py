"""The command line, run in-process through ``googlenet.cli.main``."""

import json
import subprocess
import sys
import warnings

import pytest

from googlenet.cli import main, quiet_known_warnings
from googlenet.commands.cost import verdict


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_renders_table1(capsys):
    code, out, _ = run(capsys, "summary", "googlenet")
    assert code == 0
    assert "inception (4e)" in out and "14x14x832" in out and "paper ops" in out
    assert "multiply-adds" in out and "FLOPs = 2 x MACs" in out
    conv1 = next(line for line in out.splitlines() if line.startswith("convolution"))
    assert conv1.rstrip().endswith("*")


def test_summary_json(capsys):
    code, out, _ = run(capsys, "summary", "googlenet", "--json")
    data = json.loads(out)
    assert code == 0 and data["input_size"] == 224 and len(data["rows"]) == 19
    assert data["rows"][0]["differs"] is True


@pytest.mark.parametrize("name", ["inception_a_net", "googlenet_mnist", "d2l_googlenet"])
def test_summary_per_layer_for_every_model(capsys, name):
    code, out, _ = run(capsys, "summary", name, "--layers", "--json")
    data = json.loads(out)
    assert code == 0 and data["layers"][-1]["name"] == "fc"
    assert all(r["flops"] == 2 * r["macs"] for r in data["layers"])


def test_summary_at_other_input_size(capsys):
    code, out, _ = run(capsys, "summary", "googlenet_bn", "--layers", "--input-size", "160")
    assert code == 0 and "at 160x160" in out and "1024x5x5" in out


def test_cost_calculator(capsys):
    code, out, _ = run(capsys, "cost", "--input", "28x28x192", "--filters", "32",
                       "--kernel", "5", "--reduce", "16")
    assert code == 0 and "(120.4M)" in out and "(12.4M)" in out
    code, out, _ = run(capsys, "cost", "--input", "14x14x512", "--filters", "64",
                       "--reduce", "24", "--json")
    data = json.loads(out)
    assert (data["direct_params"], data["reduced_params"]) == (819_200, 50_688)


def test_list_and_info(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "googlenet_bn" in out and "inception_a_net" in out
    code, out, _ = run(capsys, "info", "googlenet_bn", "--json")
    assert json.loads(out)["num_params_with_aux"] == 13_004_888


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "googlenet", "cost", "--input", "28x28x192",
                           "--filters", "32", "--reduce", "16"],
                          capture_output=True, text=True, check=True)
    assert "120,422,400" in proc.stdout


def test_cost_says_when_the_reduction_costs_more(capsys):
    # A "reduce" wider than the input makes the branch dearer: 396,800 vs 153,600 params.
    code, out, _ = run(capsys, "cost", "--input", "28x28x192", "--filters", "32",
                       "--reduce", "400")
    assert code == 0
    assert out.splitlines()[-1].strip() == ("the reduction costs 2.6x more params and 2.6x "
                                            "more multiply-adds")
    assert "saves" not in out


def test_verdict_names_what_grows_and_what_shrinks():
    assert verdict(9.7, 9.7) == "saves 9.7x params and 9.7x multiply-adds"
    assert verdict(0.5, 0.5) == "costs 2.0x more params and 2.0x more multiply-adds"
    assert verdict(1.2, 0.8) == "saves 1.2x params but costs 1.2x more multiply-adds"


# (message, category, the module that issues it): each as the third-party library says it.
THIRD_PARTY = [
    ("`isinstance(treespec, LeafSpec)` is deprecated, use `isinstance(treespec, TreeSpec) "
     "and treespec.is_leaf()` instead.", FutureWarning, "copyreg"),
    ("`torch.jit.script_method` is deprecated. Please switch to `torch.compile` or "
     "`torch.export`.", DeprecationWarning, "torch.jit._script"),
    ("The input of maxpool2d is not quantized, skip annotate maxpool2d with config "
     "QuantizationConfig(...)", UserWarning,
     "torchao.quantization.pt2e.quantizer.x86_inductor_quantizer"),
    ("__array__ implementation doesn't accept a copy keyword, so passing copy=False failed.",
     DeprecationWarning, "keras.src.backend.common.variables"),
]


def test_known_third_party_warnings_are_quiet_and_nothing_else():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        quiet_known_warnings()
        for message, category, module in THIRD_PARTY:
            warnings.warn_explicit(message, category, "lib.py", 1, module=module)
        # The same text from our own code, and another deprecation from torch, still show.
        warnings.warn_explicit(THIRD_PARTY[2][0], UserWarning, "q.py", 1, module="googlenet.x")
        warnings.warn_explicit("something new", DeprecationWarning, "t.py", 1, module="torch")
    assert [(w.category, str(w.message)) for w in seen] == [
        (UserWarning, THIRD_PARTY[2][0]), (DeprecationWarning, "something new")]
