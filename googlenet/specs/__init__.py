"""Architectures as data: the paper's Table 1 and its variants, every block a branch table;
each family module's registry entries (``ENTRIES``), collected in :data:`FAMILIES`."""

from . import bn_inception, googlenet, inception_resnet, inception_v3, inception_v4, small
from .blocks import BlockSpec, Branch, Conv, Identity, Pool, Residual
from .bn_inception import BN_INCEPTION, FIGURE5
from .entry import Accuracy, ModelInfo, PublishedWeights, Release
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

FAMILIES: tuple[tuple[ModelInfo, ...], ...] = (
    googlenet.ENTRIES, inception_v3.ENTRIES, inception_v4.ENTRIES, inception_resnet.ENTRIES,
    bn_inception.ENTRIES, small.ENTRIES,
)
"""Every family module's entries. Their order is the weights catalogue's (`googlenet
weights list`) and the importers' release table's; `googlenet list` sorts by name."""

__all__ = [
    "FAMILIES", "ModelInfo", "Release", "PublishedWeights", "Accuracy", "AuxSpec", "NetSpec",
    "Row", "Column", "TableLayout", "parse_count", "BlockSpec", "Branch",
    "Conv", "Identity", "Pool", "Residual", "TABLE1", "GOOGLENET", "GOOGLENET_BN",
    "GOOGLENET_NAIVE", "GOOGLENET_CIFAR", "GOOGLENET_MNIST", "GOOGLENET_MNIST_WIDE",
    "INCEPTION_A_NET", "D2L_GOOGLENET", "INCEPTION_V3", "INCEPTION_V3_KERAS", "BN_INCEPTION",
    "FIGURE5", "INCEPTION_V4", "INCEPTION_RESNET_V1", "INCEPTION_RESNET_V1_FACENET",
    "INCEPTION_RESNET_V2", "INCEPTION_RESNET_CIFAR", "INCEPTION_RESNET_MNIST",
]
