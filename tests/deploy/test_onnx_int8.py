"""onnxruntime's int8 graph: shared concat scales, the classifier's bias correction, and
the runner that splits a batch across single-threaded sessions."""

from __future__ import annotations

import ctypes
import gc
import signal
import sys

import numpy
import onnx
import pytest
import torch
from onnx import numpy_helper

from googlenet.deploy import unavailable_reason
from googlenet.deploy.export import export_onnx, onnx_session_runner
from googlenet.deploy.onnx_int8 import (
    correct_classifier_bias,
    quantize_onnx_int8,
    share_concat_scales,
)
from googlenet.deploy.openvino_runner import openvino_available, openvino_runner
from googlenet.errors import WeightsError
from googlenet.models import create_model

pytestmark = pytest.mark.skipif(unavailable_reason("onnxruntime_int8") is not None,
                                reason="onnxruntime not installed")


def _concat_scales(path) -> list[tuple[list[float], float]]:
    """Each Concat's (input scales, output scale), read from its DQ inputs and Q output."""
    graph = onnx.load(str(path)).graph
    values = {i.name: float(numpy_helper.to_array(i).reshape(-1)[0]) for i in graph.initializer}
    producer = {out: n for n in graph.node for out in n.output}
    found = []
    for node in graph.node:
        if node.op_type == "Concat":
            after = [n for n in graph.node if node.output[0] in n.input]
            found.append(([values[producer[i].input[1]] for i in node.input],
                          values[after[0].input[1]]))
    return found


@pytest.fixture(scope="module")
def relu_net(tmp_path_factory):
    """A random-init googlenet_mnist_wide (every branch ends in a ReLU) at 28x28: its float ONNX
    model, the int8 one, calibration batches and held-out images."""
    torch.manual_seed(0)
    model = create_model("googlenet_mnist_wide", num_classes=10).eval()
    gen = torch.Generator().manual_seed(0)
    calibration = [torch.randn(32, 1, 28, 28, generator=gen) for _ in range(4)]
    held_out = torch.randn(64, 1, 28, 28, generator=gen)
    tmp = tmp_path_factory.mktemp("int8")
    source = export_onnx(model, tmp / "model.onnx", held_out[:2])
    target = quantize_onnx_int8(source, tmp / "model.int8.onnx", calibration)
    return {"model": model, "source": source, "target": target, "tmp": tmp,
            "calibration": calibration, "held_out": held_out}


def _relative_error(path, model, images) -> float:
    with torch.no_grad():
        ref = model(images)
    return float((onnx_session_runner(path)(images) - ref).norm() / ref.norm())


def test_every_concat_reads_and_writes_one_scale(relu_net):
    concats = _concat_scales(relu_net["target"])
    assert len(concats) == 9  # one per Inception block
    for inputs, output in concats:
        assert inputs == [output] * len(inputs)
    assert share_concat_scales(relu_net["target"]) == 0  # already shared: nothing moves


def test_shared_scales_clip_nothing(relu_net, tmp_path):
    # The same quantization without the shared scales: the branches' own (finer)
    # scales. Sharing may cost precision, not range: the error stays close.
    unshared = quantize_onnx_int8(relu_net["source"], tmp_path / "unshared.onnx",
                                  relu_net["calibration"], share_scales=False)
    assert any(inputs != [output] * len(inputs) for inputs, output in _concat_scales(unshared))
    shared_err = _relative_error(relu_net["target"], relu_net["model"], relu_net["held_out"])
    unshared_err = _relative_error(unshared, relu_net["model"], relu_net["held_out"])
    assert shared_err < 1.25 * unshared_err + 1e-3, (shared_err, unshared_err)
    assert shared_err < 0.05


def test_ranges_that_do_not_start_at_zero_are_left_alone(tmp_path):
    # inception_a_net's branches end in a convolution, not a ReLU: widening a range there
    # would move its lower end, which the quantizer may rely on to clamp (a removed ReLU).
    torch.manual_seed(0)
    model = create_model("inception_a_net", num_classes=10).eval()
    images = torch.randn(32, 1, 28, 28)
    source = export_onnx(model, tmp_path / "a.onnx", images[:2])
    target = quantize_onnx_int8(source, tmp_path / "a.int8.onnx", [images])
    assert share_concat_scales(target) == 0
    assert any(inputs != [output] * len(inputs) for inputs, output in _concat_scales(target))


def test_bias_correction_removes_the_mean_logit_error(relu_net, tmp_path):
    batches = [b.numpy() for b in relu_net["calibration"]]
    shifted = tmp_path / "shifted.onnx"
    proto = onnx.load(str(relu_net["target"]))
    gemm = [n for n in proto.graph.node if n.op_type == "Gemm"][-1]
    bias = next(i for i in proto.graph.initializer if i.name == gemm.input[2])
    shift = numpy.linspace(-3, 3, 10).astype(numpy.float32)
    bias.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(bias) + shift, bias.name))
    onnx.save(proto, str(shifted))
    # The target is already corrected, so what comes off now is the shift put in.
    removed = correct_classifier_bias(relu_net["source"], shifted, batches)
    assert removed == pytest.approx(float(numpy.linalg.norm(shift)), rel=1e-3)
    assert correct_classifier_bias(relu_net["source"], shifted, batches) < 1e-3
    assert _relative_error(shifted, relu_net["model"], relu_net["held_out"]) == pytest.approx(
        _relative_error(relu_net["target"], relu_net["model"], relu_net["held_out"]), rel=1e-3)


def test_bias_correction_brings_the_logits_closer(relu_net, tmp_path):
    plain = quantize_onnx_int8(relu_net["source"], tmp_path / "plain.onnx",
                               relu_net["calibration"], correct_bias=False)
    model, held_out = relu_net["model"], relu_net["held_out"]  # not calibrated on
    assert (_relative_error(relu_net["target"], model, held_out)
            < 0.9 * _relative_error(plain, model, held_out))  # measured 0.77x


def test_bias_correction_adds_a_bias_the_exporter_dropped(tmp_path):
    # An all-zero classifier bias leaves the exported Gemm without one.
    torch.manual_seed(0)
    model = create_model("googlenet_mnist_wide", num_classes=10).eval()
    torch.nn.init.zeros_(model.fc.bias)
    images = torch.randn(32, 1, 28, 28)
    source = export_onnx(model, tmp_path / "m.onnx", images[:2])
    target = quantize_onnx_int8(source, tmp_path / "m.int8.onnx", [images])
    gemm = [n for n in onnx.load(str(target)).graph.node if n.op_type == "Gemm"][-1]
    assert len(gemm.input) == 3
    assert correct_classifier_bias(source, target, [images.numpy()]) < 1e-3


@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_split_runner_matches_one_session_and_outlives_its_file(relu_net, tmp_path, runtime):
    if runtime == "openvino" and not openvino_available():
        pytest.skip("OpenVINO not installed")
    make = onnx_session_runner if runtime == "onnxruntime" else openvino_runner
    path = tmp_path / "copy.onnx"
    path.write_bytes(relu_net["target"].read_bytes())
    split = make(path, threads=2)
    whole = make(path, threads=1)
    path.unlink()  # the runners read the model when they are made
    images = relu_net["held_out"]
    assert torch.equal(split(images), whole(images))
    assert torch.equal(split(images[:1]), whole(images[:1]))  # below 2 images: one request
    assert torch.equal(split(images[:5]), whole(images[:5]))  # slices of unequal size
    with torch.no_grad():
        ref = relu_net["model"](images)
    assert float((split(images) - ref).norm() / ref.norm()) < 0.05  # it is the int8 model


def test_openvino_cannot_read_a_broken_file(tmp_path):
    if not openvino_available():
        pytest.skip("OpenVINO not installed")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx model")
    with pytest.raises(WeightsError, match="bad.onnx: OpenVINO cannot read it"):
        openvino_runner(bad)


@pytest.mark.skipif(sys.platform != "linux", reason="sigaltstack is read through libc")
def test_openvino_runners_leave_the_signal_stack_as_they_found_it(relu_net):
    # OpenVINO installs an alternate signal stack on the inferring thread and puts the one
    # it found back when its objects go; runners dropped in the order they were made left
    # a freed stack behind, and the next Ctrl-C (raised here) crashed the process.
    if not openvino_available():
        pytest.skip("OpenVINO not installed")
    from googlenet.deploy.openvino_runner import _SignalStack

    libc = ctypes.CDLL(None)

    def stack() -> tuple[int, int]:
        found = _SignalStack()
        libc.sigaltstack(None, ctypes.byref(found))
        return (found.sp or 0) if not found.flags & 2 else 0, found.flags & 2

    before = stack()
    first = openvino_runner(relu_net["target"], threads=2)
    second = openvino_runner(relu_net["target"], threads=2)
    for run in (first, second):
        run(relu_net["held_out"])
        assert stack() == before
    del first
    gc.collect()
    del second
    gc.collect()
    assert stack() == before
    # Python's own Ctrl-C handler, whatever an earlier test left installed: what is checked
    # is that the signal is delivered on the stack now in place without a crash.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
