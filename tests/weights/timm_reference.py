"""Independent functional forwards of timm's ``inception_v4`` and Cadene's ``bninception``.

Plain torch code written from those projects' model files (timm's
``timm/models/inception_v4.py``; pretrainedmodels' ``models/bninception.py``, the Caffe
BN-Inception ported to PyTorch), layer by layer in their order, with their exact
state-dict keys. As in :mod:`tests.weights.tv_reference`, the first call on an empty state
dict creates the weights (random, with non-trivial BN statistics), so the key layout and
every width come from this file and not from the code under test.

timm's Inception v3 has torchvision's layout and layer order: its reference is
:class:`tests.weights.tv_reference.Inception3Ref`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tests.weights.tv_reference import TorchvisionRef

Tensor = torch.Tensor


class InceptionV4Ref(TorchvisionRef):
    """timm.models.InceptionV4, eval mode. Its ``ConvNormAct`` units have the keys of
    torchvision's ``BasicConv2d`` (``conv.weight``, ``bn.*``), BN eps 1e-3, no conv bias,
    padding 0 unless given: :meth:`TorchvisionRef.basic` computes them."""

    @staticmethod
    def avg(x: Tensor) -> Tensor:
        return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)

    def mixed_4a(self, p: str, x: Tensor) -> Tensor:
        b0 = self.basic(f"{p}.branch0.1", self.basic(f"{p}.branch0.0", x, 64, 1), 96, 3)
        b1 = self.basic(f"{p}.branch1.0", x, 64, 1)
        b1 = self.basic(f"{p}.branch1.1", b1, 64, (1, 7), 1, (0, 3))
        b1 = self.basic(f"{p}.branch1.2", b1, 64, (7, 1), 1, (3, 0))
        b1 = self.basic(f"{p}.branch1.3", b1, 96, 3)
        return torch.cat([b0, b1], 1)

    def inception_a(self, p: str, x: Tensor) -> Tensor:
        b0 = self.basic(f"{p}.branch0", x, 96, 1)
        b1 = self.basic(f"{p}.branch1.1", self.basic(f"{p}.branch1.0", x, 64, 1), 96, 3, 1, 1)
        b2 = self.basic(f"{p}.branch2.1", self.basic(f"{p}.branch2.0", x, 64, 1), 96, 3, 1, 1)
        b2 = self.basic(f"{p}.branch2.2", b2, 96, 3, 1, 1)
        b3 = self.basic(f"{p}.branch3.1", self.avg(x), 96, 1)
        return torch.cat([b0, b1, b2, b3], 1)

    def reduction_a(self, p: str, x: Tensor) -> Tensor:
        b0 = self.basic(f"{p}.branch0", x, 384, 3, 2)
        b1 = self.basic(f"{p}.branch1.0", x, 192, 1)
        b1 = self.basic(f"{p}.branch1.2", self.basic(f"{p}.branch1.1", b1, 224, 3, 1, 1), 256,
                        3, 2)
        return torch.cat([b0, b1, F.max_pool2d(x, 3, 2)], 1)

    def inception_b(self, p: str, x: Tensor) -> Tensor:
        b0 = self.basic(f"{p}.branch0", x, 384, 1)
        b1 = self.basic(f"{p}.branch1.0", x, 192, 1)
        b1 = self.basic(f"{p}.branch1.1", b1, 224, (1, 7), 1, (0, 3))
        b1 = self.basic(f"{p}.branch1.2", b1, 256, (7, 1), 1, (3, 0))
        b2 = self.basic(f"{p}.branch2.0", x, 192, 1)
        b2 = self.basic(f"{p}.branch2.1", b2, 192, (7, 1), 1, (3, 0))
        b2 = self.basic(f"{p}.branch2.2", b2, 224, (1, 7), 1, (0, 3))
        b2 = self.basic(f"{p}.branch2.3", b2, 224, (7, 1), 1, (3, 0))
        b2 = self.basic(f"{p}.branch2.4", b2, 256, (1, 7), 1, (0, 3))
        b3 = self.basic(f"{p}.branch3.1", self.avg(x), 128, 1)
        return torch.cat([b0, b1, b2, b3], 1)

    def reduction_b(self, p: str, x: Tensor) -> Tensor:
        b0 = self.basic(f"{p}.branch0.1", self.basic(f"{p}.branch0.0", x, 192, 1), 192, 3, 2)
        b1 = self.basic(f"{p}.branch1.0", x, 256, 1)
        b1 = self.basic(f"{p}.branch1.1", b1, 256, (1, 7), 1, (0, 3))
        b1 = self.basic(f"{p}.branch1.2", b1, 320, (7, 1), 1, (3, 0))
        b1 = self.basic(f"{p}.branch1.3", b1, 320, 3, 2)
        return torch.cat([b0, b1, F.max_pool2d(x, 3, 2)], 1)

    def inception_c(self, p: str, x: Tensor) -> Tensor:
        b0 = self.basic(f"{p}.branch0", x, 256, 1)
        b1 = self.basic(f"{p}.branch1_0", x, 384, 1)
        b1 = torch.cat([self.basic(f"{p}.branch1_1a", b1, 256, (1, 3), 1, (0, 1)),
                        self.basic(f"{p}.branch1_1b", b1, 256, (3, 1), 1, (1, 0))], 1)
        b2 = self.basic(f"{p}.branch2_0", x, 384, 1)
        b2 = self.basic(f"{p}.branch2_1", b2, 448, (3, 1), 1, (1, 0))
        b2 = self.basic(f"{p}.branch2_2", b2, 512, (1, 3), 1, (0, 1))
        b2 = torch.cat([self.basic(f"{p}.branch2_3a", b2, 256, (1, 3), 1, (0, 1)),
                        self.basic(f"{p}.branch2_3b", b2, 256, (3, 1), 1, (1, 0))], 1)
        b3 = self.basic(f"{p}.branch3.1", self.avg(x), 256, 1)
        return torch.cat([b0, b1, b2, b3], 1)

    def __call__(self, x: Tensor, classes: int = 1000) -> Tensor:
        x = self.basic("features.0", x, 32, 3, 2)
        x = self.basic("features.1", x, 32, 3)
        x = self.basic("features.2", x, 64, 3, 1, 1)
        x = torch.cat([F.max_pool2d(x, 3, 2), self.basic("features.3.conv", x, 96, 3, 2)], 1)
        x = self.mixed_4a("features.4", x)
        x = torch.cat([self.basic("features.5.conv", x, 192, 3, 2), F.max_pool2d(x, 3, 2)], 1)
        for i in range(6, 10):
            x = self.inception_a(f"features.{i}", x)
        x = self.reduction_a("features.10", x)
        for i in range(11, 18):
            x = self.inception_b(f"features.{i}", x)
        x = self.reduction_b("features.18", x)
        for i in range(19, 22):
            x = self.inception_c(f"features.{i}", x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)  # drop_rate 0
        return self.linear("last_linear", x, classes)


# name, 1x1, 3x3_reduce, 3x3, double_3x3_reduce, double_3x3, pool, pool_proj (None: the
# pool passes through), stride: the Conv2d widths of pretrainedmodels' bninception.py.
BN_INCEPTION_BLOCKS = (
    ("inception_3a", 64, 64, 64, 64, 96, "avg", 32, 1),
    ("inception_3b", 64, 64, 96, 64, 96, "avg", 64, 1),
    ("inception_3c", None, 128, 160, 64, 96, "max", None, 2),
    ("inception_4a", 224, 64, 96, 96, 128, "avg", 128, 1),
    ("inception_4b", 192, 96, 128, 96, 128, "avg", 128, 1),
    ("inception_4c", 160, 128, 160, 128, 160, "avg", 128, 1),
    ("inception_4d", 96, 128, 192, 160, 192, "avg", 128, 1),
    ("inception_4e", None, 128, 192, 192, 256, "max", None, 2),
    ("inception_5a", 352, 192, 320, 160, 224, "avg", 128, 1),
    ("inception_5b", 352, 192, 320, 192, 224, "max", 128, 1),
)


class BNInceptionRef(TorchvisionRef):
    """pretrainedmodels.BNInception, eval mode: every convolution has a bias and its own
    ``<name>_bn`` BatchNorm2d (PyTorch's eps 1e-5), then ReLU; pools round up."""

    def unit(self, p: str, x: Tensor, cout: int, k: int, stride: int = 1,
             padding: int = 0) -> Tensor:
        if f"{p}.weight" not in self.sd:
            cin = x.shape[1]
            self.sd.update({
                f"{p}.weight": self._rand(cout, cin, k, k, scale=(2 / (cin * k * k)) ** 0.5),
                f"{p}.bias": self._rand(cout, scale=0.2),
                f"{p}_bn.weight": self._rand(cout, scale=1.0, low=0.5),
                f"{p}_bn.bias": self._rand(cout, scale=0.2),
                f"{p}_bn.running_mean": self._rand(cout, scale=0.2),
                f"{p}_bn.running_var": self._rand(cout, scale=1.5, low=0.5),
                f"{p}_bn.num_batches_tracked": torch.tensor(0),
            })
        sd = self.sd
        x = F.conv2d(x, sd[f"{p}.weight"], sd[f"{p}.bias"], stride=stride, padding=padding)
        x = F.batch_norm(x, sd[f"{p}_bn.running_mean"], sd[f"{p}_bn.running_var"],
                         sd[f"{p}_bn.weight"], sd[f"{p}_bn.bias"], False, 0.0, 1e-5)
        return F.relu(x)

    def block(self, p: str, x: Tensor, c1: int | None, r3: int, c3: int, rd: int, cd: int,
              pool: str, proj: int | None, stride: int) -> Tensor:
        outs = [self.unit(f"{p}_1x1", x, c1, 1)] if c1 else []
        outs.append(self.unit(f"{p}_3x3", self.unit(f"{p}_3x3_reduce", x, r3, 1), c3, 3,
                              stride, 1))
        d = self.unit(f"{p}_double_3x3_1", self.unit(f"{p}_double_3x3_reduce", x, rd, 1), cd,
                      3, 1, 1)
        outs.append(self.unit(f"{p}_double_3x3_2", d, cd, 3, stride, 1))
        if stride == 2:
            pooled = F.max_pool2d(x, 3, 2, ceil_mode=True)
        elif pool == "avg":
            pooled = F.avg_pool2d(x, 3, 1, 1, ceil_mode=True, count_include_pad=True)
        else:
            pooled = F.max_pool2d(x, 3, 1, 1, ceil_mode=True)
        outs.append(pooled if proj is None else self.unit(f"{p}_pool_proj", pooled, proj, 1))
        return torch.cat(outs, 1)

    def __call__(self, x: Tensor, classes: int = 1000) -> Tensor:
        x = F.max_pool2d(self.unit("conv1_7x7_s2", x, 64, 7, 2, 3), 3, 2, ceil_mode=True)
        x = self.unit("conv2_3x3", self.unit("conv2_3x3_reduce", x, 64, 1), 192, 3, 1, 1)
        x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        for name, *widths in BN_INCEPTION_BLOCKS:
            x = self.block(name, x, *widths)  # type: ignore[arg-type]
        x = F.avg_pool2d(x, kernel_size=x.shape[2])  # the port's global pooling
        return self.linear("last_linear", torch.flatten(x, 1), classes)
