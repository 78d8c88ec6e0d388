"""Architectures as data: the paper's Table 1 and its variants, every block a branch table."""

from .blocks import BlockSpec, Branch, Conv, Identity, Pool, Residual
from .bn_inception import BN_INCEPTION, FIGURE5
from .googlenet import GOOGLENET, GOOGLENET_BN, GOOGLENET_NAIVE, TABLE1
from .inception_resnet import (
    INCEPTION_RESNET_V1,
    INCEPTION_RESNET_V1_FACENET,
    INCEPTION_RESNET_V2,
)
from .inception_v3 import INCEPTION_V3, INCEPTION_V3_KERAS
from .inception_v4 import INCEPTION_V4
from .small import (
    D2L_GOOGLENET,
    GOOGLENET_CIFAR,
    GOOGLENET_MNIST,
    GOOGLENET_MNIST_WIDE,
    INCEPTION_A_NET,
    INCEPTION_RESNET_CIFAR,
    INCEPTION_RESNET_MNIST,
)
from .types import AuxSpec, Column, NetSpec, Row, TableLayout, parse_count

__all__ = [
    "AuxSpec", "NetSpec", "Row", "Column", "TableLayout", "parse_count", "BlockSpec", "Branch",
    "Conv", "Identity", "Pool", "Residual", "TABLE1", "GOOGLENET", "GOOGLENET_BN",
    "GOOGLENET_NAIVE", "GOOGLENET_CIFAR", "GOOGLENET_MNIST", "GOOGLENET_MNIST_WIDE",
    "INCEPTION_A_NET", "D2L_GOOGLENET", "INCEPTION_V3", "INCEPTION_V3_KERAS", "BN_INCEPTION",
    "FIGURE5", "INCEPTION_V4", "INCEPTION_RESNET_V1", "INCEPTION_RESNET_V1_FACENET",
    "INCEPTION_RESNET_V2", "INCEPTION_RESNET_CIFAR", "INCEPTION_RESNET_MNIST",
]
