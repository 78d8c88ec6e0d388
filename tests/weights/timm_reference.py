"""Independent functional forwards of timm's ``inception_v4`` and ``inception_resnet_v2``
and Cadene's ``bninception``.

Plain torch code written from those projects' model files (timm's
``timm/models/inception_v4.py`` and ``inception_resnet_v2.py``; pretrainedmodels'
``models/bninception.py``, the Caffe BN-Inception ported to PyTorch, and
``models/inceptionresnetv2.py``), layer by layer in their order, with their exact
state-dict keys. As in :mod:`tests.weights.tv_reference`, the first call on an empty state
dict creates the weights (random, with non-trivial BN statistics), so the key layout and
every width come from this file and not from the code under test.

timm's Inception v3 has torchvision's layout and layer order: its reference is
:class:`tests.weights.tv_reference.Inception3Ref`.
"""

from __future__ import annotations

from collections.abc import Callable

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

    def reduction_a(self, p: str, x: Tensor, k: int = 192, l: int = 224,  # noqa: E741
                    m: int = 256, n: int = 384) -> Tensor:
        """Reduction_A with the paper's Table 1 widths k, l, m, n (Inception-v4's by
        default; timm's Inception-ResNet-v2 Mixed_6a is the same module with its own)."""
        b0 = self.basic(f"{p}.branch0", x, n, 3, 2)
        b1 = self.basic(f"{p}.branch1.0", x, k, 1)
        b1 = self.basic(f"{p}.branch1.2", self.basic(f"{p}.branch1.1", b1, l, 3, 1, 1), m, 3, 2)
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


class InceptionResNetV2Ref(InceptionV4Ref):
    """timm.models.InceptionResnetV2 / pretrainedmodels.InceptionResNetV2, eval mode.

    Units as :class:`InceptionV4Ref`'s (``conv`` + ``bn`` eps 1e-3 + ReLU, padding 0 unless
    given), and its Reduction_A (timm's Mixed_6a). A residual block ends
    ``relu(x + scale * conv2d(cat))`` where ``conv2d`` is a plain ``nn.Conv2d`` with bias;
    the last one (``block8``) has scale 1.0 and no ReLU.
    The classifier is timm's ``classif`` or Cadene's ``last_linear`` (``classifier``);
    pooling is global (Cadene's ``AvgPool2d(8)`` is that at 299x299). After a call,
    ``feats`` holds the output of each module timm's ``feature_info`` and
    ``forward_features`` name: ``mixed_5b``, ``repeat`` ... ``block8``, ``conv2d_7b``.
    """

    def __init__(self, seed: int = 0, classifier: str = "classif") -> None:
        super().__init__(seed)
        self.classifier = classifier
        self.feats: dict[str, Tensor] = {}

    def conv2d(self, p: str, x: Tensor, cout: int) -> Tensor:
        """A residual block's projection: 1x1, bias, no BN, no ReLU."""
        if f"{p}.weight" not in self.sd:
            cin = x.shape[1]
            self.sd[f"{p}.weight"] = self._rand(cout, cin, 1, 1, scale=cin ** -0.5)
            self.sd[f"{p}.bias"] = self._rand(cout, scale=0.1)
        return F.conv2d(x, self.sd[f"{p}.weight"], self.sd[f"{p}.bias"])

    def residual(self, p: str, x: Tensor, branches: list[Tensor], scale: float,
                 relu: bool = True) -> Tensor:
        out = self.conv2d(f"{p}.conv2d", torch.cat(branches, 1), x.shape[1]) * scale + x
        return F.relu(out) if relu else out

    def mixed_5b(self, p: str, x: Tensor) -> Tensor:
        b0 = self.basic(f"{p}.branch0", x, 96, 1)
        b1 = self.basic(f"{p}.branch1.1", self.basic(f"{p}.branch1.0", x, 48, 1), 64, 5, 1, 2)
        b2 = self.basic(f"{p}.branch2.1", self.basic(f"{p}.branch2.0", x, 64, 1), 96, 3, 1, 1)
        b2 = self.basic(f"{p}.branch2.2", b2, 96, 3, 1, 1)
        b3 = self.basic(f"{p}.branch3.1", F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
                        64, 1)
        return torch.cat([b0, b1, b2, b3], 1)

    def block35(self, p: str, x: Tensor) -> Tensor:
        b0 = self.basic(f"{p}.branch0", x, 32, 1)
        b1 = self.basic(f"{p}.branch1.1", self.basic(f"{p}.branch1.0", x, 32, 1), 32, 3, 1, 1)
        b2 = self.basic(f"{p}.branch2.1", self.basic(f"{p}.branch2.0", x, 32, 1), 48, 3, 1, 1)
        b2 = self.basic(f"{p}.branch2.2", b2, 64, 3, 1, 1)
        return self.residual(p, x, [b0, b1, b2], 0.17)

    def block17(self, p: str, x: Tensor) -> Tensor:
        b0 = self.basic(f"{p}.branch0", x, 192, 1)
        b1 = self.basic(f"{p}.branch1.0", x, 128, 1)
        b1 = self.basic(f"{p}.branch1.1", b1, 160, (1, 7), 1, (0, 3))
        b1 = self.basic(f"{p}.branch1.2", b1, 192, (7, 1), 1, (3, 0))
        return self.residual(p, x, [b0, b1], 0.10)

    def mixed_7a(self, p: str, x: Tensor) -> Tensor:
        b0 = self.basic(f"{p}.branch0.1", self.basic(f"{p}.branch0.0", x, 256, 1), 384, 3, 2)
        b1 = self.basic(f"{p}.branch1.1", self.basic(f"{p}.branch1.0", x, 256, 1), 288, 3, 2)
        b2 = self.basic(f"{p}.branch2.1", self.basic(f"{p}.branch2.0", x, 256, 1), 288, 3, 1, 1)
        b2 = self.basic(f"{p}.branch2.2", b2, 320, 3, 2)
        return torch.cat([b0, b1, b2, F.max_pool2d(x, 3, 2)], 1)

    def block8(self, p: str, x: Tensor, scale: float = 0.20, relu: bool = True) -> Tensor:
        b0 = self.basic(f"{p}.branch0", x, 192, 1)
        b1 = self.basic(f"{p}.branch1.0", x, 192, 1)
        b1 = self.basic(f"{p}.branch1.1", b1, 224, (1, 3), 1, (0, 1))
        b1 = self.basic(f"{p}.branch1.2", b1, 256, (3, 1), 1, (1, 0))
        return self.residual(p, x, [b0, b1], scale, relu)

    def __call__(self, x: Tensor, classes: int = 1000) -> Tensor:
        x = self.basic("conv2d_1a", x, 32, 3, 2)
        x = self.basic("conv2d_2a", x, 32, 3)
        x = self.basic("conv2d_2b", x, 64, 3, 1, 1)
        x = self.basic("conv2d_3b", F.max_pool2d(x, 3, 2), 80, 1)
        x = self.basic("conv2d_4a", x, 192, 3)
        stages = (
            ("mixed_5b", lambda x: self.mixed_5b("mixed_5b", F.max_pool2d(x, 3, 2))),
            ("repeat", lambda x: self._repeat("repeat", x, 10, self.block35)),
            ("mixed_6a", lambda x: self.reduction_a("mixed_6a", x, 256, 256, 384, 384)),
            ("repeat_1", lambda x: self._repeat("repeat_1", x, 20, self.block17)),
            ("mixed_7a", lambda x: self.mixed_7a("mixed_7a", x)),
            ("repeat_2", lambda x: self._repeat("repeat_2", x, 9, self.block8)),
            ("block8", lambda x: self.block8("block8", x, scale=1.0, relu=False)),
            ("conv2d_7b", lambda x: self.basic("conv2d_7b", x, 1536, 1)),
        )
        self.feats = {}
        for name, stage in stages:
            x = self.feats[name] = stage(x)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)  # drop_rate 0
        return self.linear(self.classifier, x, classes)

    @staticmethod
    def _repeat(p: str, x: Tensor, n: int, block: Callable[[str, Tensor], Tensor]) -> Tensor:
        for i in range(n):  # an nn.Sequential of n blocks
            x = block(f"{p}.{i}", x)
        return x
