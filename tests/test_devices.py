"""Device names: auto/cpu/cuda/cuda:N, refused in one line when unknown or absent."""

import pytest
import torch

from googlenet.devices import check_device_name, resolve_device
from googlenet.errors import DeviceError


def test_auto_and_cpu():
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == want
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("name", ["bogus", "gpu", "cuda:", "cuda:x", "cpu:0 ", "", None, 0])
def test_unknown_names_are_refused(name):
    with pytest.raises(DeviceError, match="expected auto, cpu, cuda or cuda:N"):
        resolve_device(name)


@pytest.mark.parametrize("name", ["auto", "cpu", "cuda", "cuda:0", "cuda:12"])
def test_names_are_checked_without_looking_for_the_device(name):
    assert check_device_name(name) == name


def test_a_gpu_this_machine_lacks_is_refused():
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(DeviceError, match=f"device 'cuda:{count}': "):
        resolve_device(f"cuda:{count}")
    if count == 0:
        with pytest.raises(DeviceError, match="device 'cuda': "):
            resolve_device("cuda")
