"""bf16 and int8 keep the trained model's decisions (top-1 agreement >= 99%)."""

import pytest
import torch

from googlenet.deploy import build_path, optimize_for_inference, unavailable_reason
from googlenet.deploy.optimize import FP32_ATOL, PATHS, TOP1_AGREEMENT
from googlenet.deploy.quantize import quantize_int8
from googlenet.errors import GoogLeNetError
from googlenet.models import create_model


def _agreement(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.argmax(1) == b.argmax(1)).float().mean().item()


def test_fixture_model_is_trained(trained):
    # Measured 0.83 on Fashion-MNIST (chance 0.1), 0.997 on four synthetic classes (chance
    # 0.25). Without a trained model the agreement checks below would be meaningless.
    assert trained["accuracy"] > 0.7, f"{trained['dataset']}: {trained['accuracy']:.3f}"


@pytest.mark.skipif(unavailable_reason("bf16") is not None, reason="no bf16 on this CPU")
def test_bf16_agrees_with_eager(trained):
    model, x = trained["model"], trained["held_out"]
    runner = build_path("bf16", model, x[:8])
    with torch.no_grad():
        agree = _agreement(runner(x), model(x))
    assert agree >= TOP1_AGREEMENT


@pytest.mark.skipif(unavailable_reason("int8") is not None, reason="torchao not installed")
def test_int8_pt2e_agrees_with_eager(trained):
    # The converted (uncompiled) graph computes the same int8 arithmetic as the Inductor
    # kernels, in reference form: the fast check. The compiled runner is the slow test.
    from googlenet.deploy.fuse import fuse_for_inference

    model, x = trained["model"], trained["held_out"]
    fused = fuse_for_inference(model, x[:8], "int8")  # as build_path
    calib = trained["calibration"].split(64)
    quantized = quantize_int8(fused, calib, x[:8], compile=False)
    with torch.no_grad():
        agree = _agreement(quantized(x), model(x))
    assert agree >= TOP1_AGREEMENT


@pytest.mark.skipif(unavailable_reason("int8") is not None, reason="torchao not installed")
def test_int8_graph_concatenates_and_pools_in_int8_when_1x1s_stay_unmerged(trained):
    # The quantizer keeps a concat or max pool in int8 only when all its inputs are int8;
    # a merged 1x1's split is not, which left googlenet_bn at 86 img/s instead of 144.
    # (Inside the blocks: the stem's pool reads a float conv when the self-check keeps it.)
    from googlenet.deploy.fuse import FuseTarget, fuse_for_inference

    model, x = trained["model"], trained["held_out"]
    ops = (torch.ops.aten.cat.default, torch.ops.aten.max_pool2d.default)

    def float_inputs(target: FuseTarget) -> tuple[int, int]:
        fused = fuse_for_inference(model, x[:8], target)
        graph = quantize_int8(fused, trained["calibration"].split(64), x[:8],
                              compile=False).graph
        inputs = [i for n in graph.nodes if n.target in ops
                  and "InceptionBlock" in str(n.meta.get("nn_module_stack"))
                  for i in n.all_input_nodes]
        return sum("dequantize" not in str(i.target) for i in inputs), len(inputs)

    unmerged, merged = float_inputs("int8"), float_inputs("graph")
    assert unmerged[0] == 0 and unmerged[1] >= 8  # two blocks, four branches each
    assert merged[0] > 0


@pytest.mark.slow
@pytest.mark.skipif(unavailable_reason("int8") is not None, reason="torchao not installed")
def test_int8_compiled_runner_agrees_with_eager(trained):
    model, x = trained["model"], trained["held_out"]
    runner = build_path("int8", model, x[:64], calibration=trained["calibration"].split(64))
    with torch.no_grad():
        agree = _agreement(torch.cat([runner(b) for b in x.split(64)]), model(x))
    assert agree >= TOP1_AGREEMENT


def test_int8_without_calibration_is_a_clear_error(trained):
    if unavailable_reason("int8") is not None:
        pytest.skip("torchao not installed")
    with pytest.raises(GoogLeNetError, match="calibration"):
        build_path("int8", trained["model"], trained["held_out"][:2])


def test_optimize_auto_names_its_path(trained):
    model, x = trained["model"], trained["held_out"]
    runner, path = optimize_for_inference(model, x[:4])
    assert path in PATHS and runner.path == path and PATHS[path].compiled is False
    with torch.no_grad():
        assert _agreement(runner(x), model(x)) >= TOP1_AGREEMENT


def test_unknown_path_is_a_clear_error(trained):
    with pytest.raises(GoogLeNetError, match="unknown inference path"):
        optimize_for_inference(trained["model"], trained["held_out"][:2], path="turbo")


@pytest.mark.skipif(unavailable_reason("int8") is not None, reason="torchao not installed")
@pytest.mark.parametrize("threshold,tried", [(0.0, 1), (1.01, 2)])
def test_int8_keeps_the_first_conv_float_only_when_agreement_needs_it(
        trained, monkeypatch, threshold, tried):
    from googlenet.deploy import quantize

    model, x = trained["model"], trained["held_out"]
    seen: list[list[str]] = []
    real = quantize._quantized_graph

    def recording(m, example, batches, keep_float):
        seen.append(keep_float)
        return real(m, example, batches, keep_float)

    monkeypatch.setattr(quantize, "_quantized_graph", recording)
    monkeypatch.setattr(quantize, "SELF_CHECK_AGREEMENT", threshold)
    quantize.quantize_int8(model, trained["calibration"].split(64), x[:8], compile=False)
    assert seen == quantize.float_layer_choices(model)[:tried]  # the last one is unchecked
    assert seen[0] == ["fc"] and seen[-1][-1] == "fc"
    assert len(seen) == 1 or seen[1][0] == "conv1.conv"


def test_a_compiled_int8_graph_that_disagrees_with_its_reference_is_refused():
    from googlenet.deploy.quantize import CompiledInt8Error, check_compiled

    images = torch.randn(50, 3)
    reference = torch.nn.Identity()
    check_compiled(torch.nn.Identity(), reference, images)  # agrees: no error
    with pytest.raises(CompiledInt8Error, match="matches the quantized graph.s on only 0%"):
        check_compiled(lambda x: -x, reference, images)  # every top-1 changes


@pytest.mark.slow
@pytest.mark.skipif(unavailable_reason("int8") is not None, reason="torchao not installed")
def test_compiled_int8_googlenet_bn_keeps_the_float_geometry():
    # Inductor's quantized max pool dropped ceil_mode, pooling 112 to 55 instead of 56:
    # every later layer shrank and the logits moved by 7% of their norm (2% with the
    # floor-mode pools of the int8 target).
    torch.manual_seed(0)
    model = create_model("googlenet_bn", aux_logits=False).eval()
    gen = torch.Generator().manual_seed(0)
    calib = [torch.randn(8, 3, 224, 224, generator=gen) for _ in range(2)]
    x = torch.randn(8, 3, 224, 224, generator=gen)
    runner = build_path("int8", model, x, calibration=calib)
    with torch.no_grad():
        ref = model(x)
        assert ((runner(x) - ref).norm() / ref.norm()).item() < 0.04


@pytest.mark.skipif(unavailable_reason("onnxruntime_int8") is not None,
                    reason="onnxruntime not installed")
def test_onnxruntime_int8_agrees_with_eager(trained):
    model, x = trained["model"], trained["held_out"]
    runner = build_path("onnxruntime_int8", model, x[:8],
                        calibration=trained["calibration"].split(64))
    with torch.no_grad():
        agree = _agreement(runner(x), model(x))
    assert agree >= TOP1_AGREEMENT
    with pytest.raises(GoogLeNetError, match="calibration"):
        build_path("onnxruntime_int8", model, x[:2])


@pytest.mark.skipif(unavailable_reason("openvino_int8") is not None,
                    reason="OpenVINO not installed")
def test_openvino_paths_agree_with_eager(trained):
    model, x = trained["model"], trained["held_out"]
    with torch.no_grad():
        ref = model(x)
    fp32 = build_path("openvino", model, x[:8])
    assert float((fp32(x) - ref).abs().max()) <= FP32_ATOL
    int8 = build_path("openvino_int8", model, x[:8], calibration=trained["calibration"].split(64))
    assert _agreement(int8(x), ref) >= TOP1_AGREEMENT
