"""The model registry: names, metadata and ``create_model``.

Entries are listed explicitly in :data:`MODELS` (no registration by import side effects).
The metadata is data a user can rely on without building the model (input size, minimum
input size, normalisation, parameter counts); ``tests/test_models.py`` builds every
model and checks each figure.
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, replace

from torch import nn

from ..errors import SpecError, UnknownModelError
from ..preprocessing import Preprocessing, eval_resize_size
from ..specs import (
    BN_INCEPTION,
    D2L_GOOGLENET,
    GOOGLENET,
    GOOGLENET_BN,
    GOOGLENET_CIFAR,
    GOOGLENET_MNIST,
    GOOGLENET_MNIST_WIDE,
    GOOGLENET_NAIVE,
    INCEPTION_A_NET,
    INCEPTION_RESNET_CIFAR,
    INCEPTION_RESNET_MNIST,
    INCEPTION_RESNET_V1,
    INCEPTION_RESNET_V1_FACENET,
    INCEPTION_RESNET_V2,
    INCEPTION_V3,
    INCEPTION_V3_KERAS,
    INCEPTION_V4,
    NetSpec,
)
from .inception_net import InceptionNet


@dataclass(frozen=True)
class ModelInfo:
    """What is known about a registered model before it is built.

    ``num_params`` counts the default model without aux heads;
    ``num_params_with_aux`` with them (None when it has none).
    """

    name: str
    spec: NetSpec
    description: str
    min_input_size: int
    num_params: int
    num_params_with_aux: int | None = None
    paper: str = "Szegedy et al. 2014, Going Deeper with Convolutions"

    @property
    def input_size(self) -> int:
        return self.spec.input_size

    @property
    def in_chans(self) -> int:
        return self.spec.in_chans

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes

    @property
    def mean(self) -> tuple[float, ...]:
        return self.spec.mean

    @property
    def std(self) -> tuple[float, ...]:
        return self.spec.std

    @property
    def preprocessing(self) -> Preprocessing:
        """What a fresh model of this name is trained with by default. A weights file
        records its own (see :func:`googlenet.weights.resolve_preprocessing`)."""
        size = self.spec.input_size
        return Preprocessing(mean=self.spec.mean, std=self.spec.std, input_size=size,
                             resize_size=eval_resize_size(size))


_V3_PAPER = "Szegedy et al. 2015, Rethinking the Inception Architecture for Computer Vision"
_BN_PAPER = ("Ioffe & Szegedy 2015, Batch Normalization: Accelerating Deep Network Training "
             "by Reducing Internal Covariate Shift")
_V4_PAPER = ("Szegedy et al. 2016, Inception-v4, Inception-ResNet and the Impact of Residual "
             "Connections on Learning")

MODELS: dict[str, ModelInfo] = {
    info.name: info
    for info in (
        ModelInfo("googlenet", GOOGLENET,
                  "The paper's GoogLeNet: Table 1, LRN, biases, 5x5 branches, two aux heads.",
                  min_input_size=31, num_params=6_998_552, num_params_with_aux=13_378_280),
        ModelInfo("googlenet_bn", GOOGLENET_BN,
                  "GoogLeNet with BN after every conv, torchvision's layout and weights.",
                  min_input_size=15, num_params=6_624_904, num_params_with_aux=13_004_888),
        ModelInfo("googlenet_naive", GOOGLENET_NAIVE,
                  "Table 1 widths with naive (Figure 2a) blocks: no 1x1 reductions.",
                  min_input_size=31, num_params=25_305_944),
        ModelInfo("googlenet_cifar", GOOGLENET_CIFAR,
                  "GoogLeNet with BN for 32x32 images; `width` scales every stage.",
                  min_input_size=8, num_params=5_979_178),
        ModelInfo("googlenet_mnist", GOOGLENET_MNIST,
                  "GoogLeNet with BN for 28x28 grayscale images; `width` scales stages.",
                  min_input_size=8, num_params=5_978_026),
        ModelInfo("googlenet_mnist_wide", GOOGLENET_MNIST_WIDE,
                  "googlenet_mnist with a strided stem, half of Table 1's widths by default.",
                  min_input_size=7, num_params=1_500_826),
        ModelInfo("inception_a_net", INCEPTION_A_NET,
                  "The PyTorch course's MNIST net: two InceptionA blocks, fc 1408->10.",
                  min_input_size=28, num_params=97_298,
                  paper="Liu Er, PyTorch Deep Learning Practice (seed 001)"),
        ModelInfo("d2l_googlenet", D2L_GOOGLENET,
                  "d2l.ai's GoogLeNet, stages b1..b5, 1-channel 96x96 (Fashion-MNIST).",
                  min_input_size=1, num_params=5_977_530,
                  paper="Zhang et al., Dive into Deep Learning, section 8.4"),
        # 75: the smallest input that leaves mixed8's 3x3/2 'valid' convolutions a 3x3 map.
        # num_params counts parameters (BN gamma and beta); Keras' count_params() of its
        # InceptionV3, 23,851,784, counts BN moving mean/var instead of gamma (+17,216).
        ModelInfo("inception_v3", INCEPTION_V3,
                  "Inception v3, torchvision's layout and pooling; aux head on mixed7.",
                  min_input_size=75, num_params=23_834_568, num_params_with_aux=27_161_264,
                  paper=_V3_PAPER),
        ModelInfo("inception_v3_keras", INCEPTION_V3_KERAS,
                  "Inception v3 as keras.applications.InceptionV3: pad-free branch pooling.",
                  min_input_size=75, num_params=23_834_568, paper=_V3_PAPER),
        # 31: the smallest input whose grid at 3c is a 4x4 and at 4e a 2x2. Above it, only
        # sizes whose grids there are even fit (32 and 224 do, 48 does not): the padded
        # stride-2 convolutions and the unpadded pool beside them disagree on odd grids
        # (googlenet.models.grid names the nearest sizes that fit).
        ModelInfo("bn_inception", BN_INCEPTION,
                  "BN-Inception (Figure 5) as the Caffe model: conv+bias+BN, BGR 0..255 input.",
                  min_input_size=31, num_params=11_295_240, paper=_BN_PAPER),
        # 75: the smallest input that leaves Reduction-B's 3x3/2 'valid' convolutions a 3x3
        # map (the same arithmetic as Inception v3's stem and reductions).
        ModelInfo("inception_v4", INCEPTION_V4,
                  "Inception-v4 as TF-slim released it and timm ports it; no aux head.",
                  min_input_size=75, num_params=42_679_816, paper=_V4_PAPER),
        # 75 for the full-size Inception-ResNets too: mixed_7a's 3x3/2 'valid' convolutions
        # need a 3x3 map (Keras' InceptionResNetV2 says "no smaller than 75").
        # 55,843,464 is timm's count; Keras' count_params(), 55,873,736, counts BN moving
        # mean/var instead of gamma (scale=False).
        ModelInfo("inception_resnet_v2", INCEPTION_RESNET_V2,
                  "Inception-ResNet-v2 as released (TF-slim, Keras, timm): 10/20/10 blocks.",
                  min_input_size=75, num_params=55_843_464, paper=_V4_PAPER),
        ModelInfo("inception_resnet_v1", INCEPTION_RESNET_V1,
                  "The paper's Inception-ResNet-v1: its stem, 5/10/5 blocks, 1792 channels.",
                  min_input_size=75, num_params=22_756_328, paper=_V4_PAPER),
        ModelInfo("inception_resnet_v1_facenet", INCEPTION_RESNET_V1_FACENET,
                  "Inception-ResNet-v1 as FaceNet: 160x160 faces to a 512-d embedding.",
                  min_input_size=75, num_params=23_482_624,
                  paper="Schroff et al. 2015, FaceNet; davidsandberg/facenet"),
        # 7: the two grid reductions' 3x3/2 'valid' convolutions need 7 -> 3 -> 1.
        ModelInfo("inception_resnet_cifar", INCEPTION_RESNET_CIFAR,
                  "A small Inception-ResNet for 32x32 images: v2's blocks at 1/4 width.",
                  min_input_size=7, num_params=995_090, paper=_V4_PAPER),
        ModelInfo("inception_resnet_mnist", INCEPTION_RESNET_MNIST,
                  "A small Inception-ResNet for 28x28 gray images (Fashion-MNIST).",
                  min_input_size=7, num_params=994_802, paper=_V4_PAPER),
    )
}


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style ``pattern``, sorted."""
    return sorted(n for n in MODELS if fnmatch.fnmatch(n, pattern))


def get_model_info(name: str) -> ModelInfo:
    """The metadata of ``name``; an unknown name raises with the closest matches."""
    try:
        return MODELS[name]
    except KeyError:
        close = difflib.get_close_matches(name, MODELS, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownModelError(
            f"unknown model {name!r}{hint} (see `googlenet list`: {', '.join(list_models())})"
        ) from None


def create_model(
    name: str,
    *,
    num_classes: int | None = None,
    in_chans: int | None = None,
    aux_logits: bool = True,
    width: float | None = None,
    dropout: float | None = None,
) -> InceptionNet:
    """Build a registered model, freshly initialised.

    ``width`` scales every channel count (small-input variants are meant for it);
    ``aux_logits=False`` leaves the auxiliary heads out; ``num_classes=0`` leaves the
    classifier out (``model(x)`` returns the pooled features). To start from a weights
    file, :func:`googlenet.create_model` (:func:`googlenet.weights.create_model`) takes
    ``weights=`` too.
    """
    info = get_model_info(name)
    spec = info.spec
    if width is not None and not width > 0:  # width 0 would still build: 618 parameters
        raise SpecError(f"{name}: width must be > 0, got {width}")
    if dropout is not None and not 0 <= dropout < 1:
        raise SpecError(f"{name}: dropout must be >= 0 and < 1, got {dropout}")
    if width is not None:
        spec = replace(spec, width=width)
    if dropout is not None:
        spec = replace(spec, dropout=dropout)
    model = InceptionNet(spec, num_classes=num_classes, in_chans=in_chans,
                         aux_logits=aux_logits, min_input_size=info.min_input_size)
    init_weights(model)
    return model


def init_weights(model: nn.Module) -> None:
    """Truncated-normal convs and linears (std 0.01 for the classifiers), zero biases,
    unit BN: the usual recipe for this family, since the paper gives none."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.01, a=-0.02, b=0.02)
            if m.bias is not None:  # FaceNet's embedding has none
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
