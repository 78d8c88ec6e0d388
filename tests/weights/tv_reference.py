"""Independent re-implementations of torchvision's GoogLeNet and Inception3 forward passes.

Plain functional torch code written from torchvision's model files (torchvision itself
cannot be imported here). Weights live in a state dict with torchvision's exact keys; the
first call on an empty dict creates them (random weights and BN statistics), so the key
layout comes from this file and not from the code under test.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


class TorchvisionRef:
    """State dict + functional forward of one torchvision model, created lazily."""

    def __init__(self, seed: int = 0) -> None:
        self.sd: dict[str, Tensor] = {}
        self.gen = torch.Generator().manual_seed(seed)

    def _rand(self, *shape: int, scale: float = 1.0, low: float | None = None) -> Tensor:
        if low is not None:  # uniform in [low, low + scale)
            return low + scale * torch.rand(*shape, generator=self.gen)
        return scale * torch.randn(*shape, generator=self.gen)

    def basic(self, p: str, x: Tensor, cout: int, k: int | tuple[int, int], stride: int = 1,
              padding: int | tuple[int, int] = 0) -> Tensor:
        """torchvision's BasicConv2d: conv (no bias), BN eps 1e-3, ReLU."""
        kh, kw = (k, k) if isinstance(k, int) else k
        if f"{p}.conv.weight" not in self.sd:
            cin = x.shape[1]
            he = (2 / (cin * kh * kw)) ** 0.5
            self.sd.update({
                f"{p}.conv.weight": self._rand(cout, cin, kh, kw, scale=he),
                f"{p}.bn.weight": self._rand(cout, scale=1.0, low=0.5),
                f"{p}.bn.bias": self._rand(cout, scale=0.2),
                f"{p}.bn.running_mean": self._rand(cout, scale=0.2),
                f"{p}.bn.running_var": self._rand(cout, scale=1.5, low=0.5),
                f"{p}.bn.num_batches_tracked": torch.tensor(0),
            })
        sd = self.sd
        x = F.conv2d(x, sd[f"{p}.conv.weight"], stride=stride, padding=padding)
        x = F.batch_norm(x, sd[f"{p}.bn.running_mean"], sd[f"{p}.bn.running_var"],
                         sd[f"{p}.bn.weight"], sd[f"{p}.bn.bias"], False, 0.0, 1e-3)
        return F.relu(x)

    def linear(self, p: str, x: Tensor, cout: int) -> Tensor:
        if f"{p}.weight" not in self.sd:
            cin = x.shape[1]
            self.sd[f"{p}.weight"] = self._rand(cout, cin, scale=cin ** -0.5)
            self.sd[f"{p}.bias"] = self._rand(cout, scale=0.1)
        return F.linear(x, self.sd[f"{p}.weight"], self.sd[f"{p}.bias"])


# name, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj (torchvision googlenet.py)
GOOGLENET_BLOCKS = (
    ("inception3a", 64, 96, 128, 16, 32, 32), ("inception3b", 128, 128, 192, 32, 96, 64),
    ("inception4a", 192, 96, 208, 16, 48, 64), ("inception4b", 160, 112, 224, 24, 64, 64),
    ("inception4c", 128, 128, 256, 24, 64, 64), ("inception4d", 112, 144, 288, 32, 64, 64),
    ("inception4e", 256, 160, 320, 32, 128, 128), ("inception5a", 256, 160, 320, 32, 128, 128),
    ("inception5b", 384, 192, 384, 48, 128, 128),
)


class GoogLeNetRef(TorchvisionRef):
    """torchvision.models.GoogLeNet (transform_input=False), eval mode."""

    def inception(self, p: str, x: Tensor, c: tuple[int, ...]) -> Tensor:
        b1 = self.basic(f"{p}.branch1", x, c[0], 1)
        b2 = self.basic(f"{p}.branch2.1", self.basic(f"{p}.branch2.0", x, c[1], 1), c[2], 3, 1,
                        1)
        # torchvision's "5x5" branch is a 3x3 convolution.
        b3 = self.basic(f"{p}.branch3.1", self.basic(f"{p}.branch3.0", x, c[3], 1), c[4], 3, 1,
                        1)
        b4 = self.basic(f"{p}.branch4.1", F.max_pool2d(x, 3, 1, 1, ceil_mode=True), c[5], 1)
        return torch.cat([b1, b2, b3, b4], 1)

    def aux(self, p: str, x: Tensor, classes: int) -> Tensor:
        x = self.basic(f"{p}.conv", F.adaptive_avg_pool2d(x, (4, 4)), 128, 1)
        x = F.relu(self.linear(f"{p}.fc1", torch.flatten(x, 1), 1024))
        return self.linear(f"{p}.fc2", x, classes)  # dropout 0.7: identity in eval

    def __call__(self, x: Tensor, classes: int = 1000) -> tuple[Tensor, Tensor, Tensor]:
        x = self.basic("conv1", x, 64, 7, 2, 3)
        x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        x = self.basic("conv3", self.basic("conv2", x, 64, 1), 192, 3, 1, 1)
        x = F.max_pool2d(x, 3, 2, ceil_mode=True)
        aux = {}
        for name, *c in GOOGLENET_BLOCKS:
            x = self.inception(name, x, tuple(c))
            if name == "inception3b":
                x = F.max_pool2d(x, 3, 2, ceil_mode=True)
            if name == "inception4e":
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
            if name in ("inception4a", "inception4d"):
                aux[name] = self.aux("aux1" if name == "inception4a" else "aux2", x, classes)
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.linear("fc", x, classes), aux["inception4a"], aux["inception4d"]


class Inception3Ref(TorchvisionRef):
    """torchvision.models.Inception3, eval mode; avg pools count the padding as
    torchvision's ``F.avg_pool2d(x, 3, 1, 1)`` does."""

    def pool_branch(self, p: str, x: Tensor, cout: int) -> Tensor:
        return self.basic(f"{p}.branch_pool", F.avg_pool2d(x, 3, 1, 1), cout, 1)

    def block_a(self, p: str, x: Tensor, pool_features: int) -> Tensor:
        b1 = self.basic(f"{p}.branch1x1", x, 64, 1)
        b5 = self.basic(f"{p}.branch5x5_2", self.basic(f"{p}.branch5x5_1", x, 48, 1), 64, 5, 1, 2)
        d = self.basic(f"{p}.branch3x3dbl_1", x, 64, 1)
        d = self.basic(f"{p}.branch3x3dbl_3", self.basic(f"{p}.branch3x3dbl_2", d, 96, 3, 1, 1),
                       96, 3, 1, 1)
        return torch.cat([b1, b5, d, self.pool_branch(p, x, pool_features)], 1)

    def block_b(self, p: str, x: Tensor) -> Tensor:
        b3 = self.basic(f"{p}.branch3x3", x, 384, 3, 2)
        d = self.basic(f"{p}.branch3x3dbl_1", x, 64, 1)
        d = self.basic(f"{p}.branch3x3dbl_3", self.basic(f"{p}.branch3x3dbl_2", d, 96, 3, 1, 1),
                       96, 3, 2)
        return torch.cat([b3, d, F.max_pool2d(x, 3, 2)], 1)

    def block_c(self, p: str, x: Tensor, c7: int) -> Tensor:
        b1 = self.basic(f"{p}.branch1x1", x, 192, 1)
        b7 = self.basic(f"{p}.branch7x7_1", x, c7, 1)
        b7 = self.basic(f"{p}.branch7x7_2", b7, c7, (1, 7), 1, (0, 3))
        b7 = self.basic(f"{p}.branch7x7_3", b7, 192, (7, 1), 1, (3, 0))
        d = self.basic(f"{p}.branch7x7dbl_1", x, c7, 1)
        d = self.basic(f"{p}.branch7x7dbl_2", d, c7, (7, 1), 1, (3, 0))
        d = self.basic(f"{p}.branch7x7dbl_3", d, c7, (1, 7), 1, (0, 3))
        d = self.basic(f"{p}.branch7x7dbl_4", d, c7, (7, 1), 1, (3, 0))
        d = self.basic(f"{p}.branch7x7dbl_5", d, 192, (1, 7), 1, (0, 3))
        return torch.cat([b1, b7, d, self.pool_branch(p, x, 192)], 1)

    def block_d(self, p: str, x: Tensor) -> Tensor:
        b3 = self.basic(f"{p}.branch3x3_2", self.basic(f"{p}.branch3x3_1", x, 192, 1), 320, 3, 2)
        b7 = self.basic(f"{p}.branch7x7x3_1", x, 192, 1)
        b7 = self.basic(f"{p}.branch7x7x3_2", b7, 192, (1, 7), 1, (0, 3))
        b7 = self.basic(f"{p}.branch7x7x3_3", b7, 192, (7, 1), 1, (3, 0))
        b7 = self.basic(f"{p}.branch7x7x3_4", b7, 192, 3, 2)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, 2)], 1)

    def block_e(self, p: str, x: Tensor) -> Tensor:
        b1 = self.basic(f"{p}.branch1x1", x, 320, 1)
        b3 = self.basic(f"{p}.branch3x3_1", x, 384, 1)
        b3 = torch.cat([self.basic(f"{p}.branch3x3_2a", b3, 384, (1, 3), 1, (0, 1)),
                        self.basic(f"{p}.branch3x3_2b", b3, 384, (3, 1), 1, (1, 0))], 1)
        d = self.basic(f"{p}.branch3x3dbl_2", self.basic(f"{p}.branch3x3dbl_1", x, 448, 1), 384,
                       3, 1, 1)
        d = torch.cat([self.basic(f"{p}.branch3x3dbl_3a", d, 384, (1, 3), 1, (0, 1)),
                       self.basic(f"{p}.branch3x3dbl_3b", d, 384, (3, 1), 1, (1, 0))], 1)
        return torch.cat([b1, b3, d, self.pool_branch(p, x, 192)], 1)

    def aux(self, x: Tensor, classes: int) -> Tensor:
        x = self.basic("AuxLogits.conv0", F.avg_pool2d(x, 5, 3), 128, 1)
        x = self.basic("AuxLogits.conv1", x, 768, 5)
        return self.linear("AuxLogits.fc", torch.flatten(F.adaptive_avg_pool2d(x, 1), 1), classes)

    @staticmethod
    def transform_input(x: Tensor) -> Tensor:
        """torchvision's transform_input=True: ImageNet-normalised -> (x - 0.5) / 0.5."""
        mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
        return torch.cat([x[:, i:i + 1] * (std[i] / 0.5) + (mean[i] - 0.5) / 0.5
                          for i in range(3)], 1)

    def __call__(self, x: Tensor, classes: int = 1000, with_aux: bool = True,
                 transform_input: bool = False) -> tuple[Tensor, Tensor | None]:
        if transform_input:
            x = self.transform_input(x)
        x = self.basic("Conv2d_1a_3x3", x, 32, 3, 2)
        x = self.basic("Conv2d_2a_3x3", x, 32, 3)
        x = F.max_pool2d(self.basic("Conv2d_2b_3x3", x, 64, 3, 1, 1), 3, 2)
        x = self.basic("Conv2d_4a_3x3", self.basic("Conv2d_3b_1x1", x, 80, 1), 192, 3)
        x = F.max_pool2d(x, 3, 2)
        for name, pf in (("Mixed_5b", 32), ("Mixed_5c", 64), ("Mixed_5d", 64)):
            x = self.block_a(name, x, pf)
        x = self.block_b("Mixed_6a", x)
        for name, c7 in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160),
                         ("Mixed_6e", 192)):
            x = self.block_c(name, x, c7)
        aux = self.aux(x, classes) if with_aux else None
        x = self.block_e("Mixed_7c", self.block_e("Mixed_7b", self.block_d("Mixed_7a", x)))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)  # dropout 0.5: identity in eval
        return self.linear("fc", x, classes), aux
