"""The weights catalogue: every pretrained release by a short stable name.

A name is ``<registry model>.<tag>`` (``googlenet_bn.tv_in1k``): the part before the dot is
the model the release fills. Each entry says where the publisher serves the original file,
its checksum in the publisher's own algorithm, its size, licence and the ImageNet accuracy
the publisher reports; :mod:`googlenet.weights.sources` says how it is imported and
preprocessed. Every fact is copied from the publisher's own source, cited beside it; a
fact the publisher does not give is None, with a comment saying so (tests/weights/
test_catalogue.py lists those entries by name).

``googlenet eval RELEASE --dataset folder --data imagenet/val`` reproduces an entry's
accuracy on ImageNet's validation set.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from googlenet.download import Checksum
from googlenet.errors import UnknownReleaseError
from googlenet.preprocessing import Preprocessing
from googlenet.weights.sources import Release, release


@dataclass(frozen=True)
class Accuracy:
    """Published ImageNet-1k validation accuracy (percent) and who published it where."""

    top1: float
    top5: float
    source: str


@dataclass(frozen=True)
class PublishedWeights:
    """One downloadable release. ``size_mb`` is the publisher's own figure (MB as the
    publisher counts them), for display only; the checksum is what guards the bytes."""

    name: str
    source: str  # the importer (googlenet convert --from)
    file: str
    url: str
    checksum: Checksum | None
    size_mb: float | None
    licence: str
    accuracy: Accuracy | None
    default: bool = False  # the model's release for create_model(name, pretrained=True)

    @property
    def model(self) -> str:
        """The registry model the release fills: the name's part before the dot."""
        return self.name.split(".", 1)[0]

    @property
    def release(self) -> Release:
        """The importer's entry: the files it reads and the preprocessing they expect."""
        return release(self.source, self.model)

    @property
    def preprocessing(self) -> Preprocessing:
        return self.release.preprocessing


def _sha256_prefix(file: str) -> Checksum:
    """torch.hub's convention, used by torchvision, timm and Cadene's pretrainedmodels: a
    file is named ``<stem>-<first hex digits of its sha256>.pth``, and torch.hub's
    ``HASH_REGEX = re.compile(r"-([a-f0-9]*)\\.")`` (torch/hub.py) reads the prefix back
    to check the download (timm: timm/models/_hub.py, check_hash=True; the names are
    made by timm's clean_checkpoint.py, sha_hash[:8])."""
    return Checksum("sha256", file.rsplit("-", 1)[1].split(".", 1)[0])


_TV = "pytorch/vision torchvision/models/"
_TV_URL = "https://download.pytorch.org/models/"
# The Keras applications' weights: keras-team/keras keras/src/applications/*.py
# (WEIGHTS_PATH / BASE_WEIGHT_URL and file_utils.get_file(..., file_hash=...): a
# 32-digit hash is md5, keras/src/utils/file_utils.py resolve_hasher "auto").
_KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
# keras-team/keras-io templates/api/applications/index.md (keras.io/api/applications):
# "Size (MB)", "Top-1 Accuracy", "Top-5 Accuracy" of the model with its top.
_KERAS_TABLE = "keras.io/api/applications table (keras-team/keras-io)"
# huggingface/pytorch-image-models timm/models/*.py default_cfgs before commit 960a8825
# (2023-05-09), which moved these TF-origin files (1001 classes, label_offset=1) to the
# Hugging Face hub; the github release URLs are the ones timm served them from.
_TIMM_URL = "https://github.com/rwightman/pytorch-image-models/releases/download/"
# huggingface/pytorch-image-models results/results-imagenet.csv: timm's own evaluation
# (bicubic, its crop_pct) of the same weights under their hub names.
_TIMM_RESULTS = "timm results/results-imagenet.csv"
# Cadene/pretrained-models.pytorch pretrainedmodels/models/*.py pretrained_settings (url);
# its README's "Accuracy on validation set (single model)" table ("Our porting").
_CADENE_URL = "http://data.lip6.fr/cadene/pretrainedmodels/"
_CADENE_README = "Cadene/pretrained-models.pytorch README.md"

CATALOGUE: tuple[PublishedWeights, ...] = (
    # BVLC/caffe models/bvlc_googlenet/readme.md: caffemodel_url, sha1, "license:
    # unrestricted"; "top-1 accuracy 68.7% ... top-5 accuracy 88.9% on the validation set,
    # using just the center crop". The readme gives no file size.
    PublishedWeights(
        "googlenet.bvlc", "caffe", "bvlc_googlenet.caffemodel",
        "http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel",
        Checksum("sha1", "405fc5acd08a3bb12de8ee5e23a96bec22f08204"), None,
        "unrestricted use (BVLC model zoo)",
        Accuracy(68.7, 88.9, "BVLC/caffe models/bvlc_googlenet/readme.md"), default=True),
    # pytorch/vision torchvision/models/googlenet.py GoogLeNet_Weights.IMAGENET1K_V1: url,
    # _metrics ImageNet-1K acc@1 69.778 / acc@5 89.530, _file_size 49.731 (MiB). The
    # repository's licence is BSD-3-Clause.
    PublishedWeights(
        "googlenet_bn.tv_in1k", "torchvision", "googlenet-1378be20.pth",
        _TV_URL + "googlenet-1378be20.pth", _sha256_prefix("googlenet-1378be20.pth"),
        49.731, "BSD-3-Clause (torchvision)",
        Accuracy(69.778, 89.530, _TV + "googlenet.py GoogLeNet_Weights.IMAGENET1K_V1"),
        default=True),
    # pytorch/vision torchvision/models/inception.py Inception_V3_Weights.IMAGENET1K_V1:
    # acc@1 77.294 / acc@5 93.450, _file_size 103.903 (MiB).
    PublishedWeights(
        "inception_v3.tv_in1k", "torchvision", "inception_v3_google-0cc3c7bd.pth",
        _TV_URL + "inception_v3_google-0cc3c7bd.pth",
        _sha256_prefix("inception_v3_google-0cc3c7bd.pth"), 103.903,
        "BSD-3-Clause (torchvision)",
        Accuracy(77.294, 93.450, _TV + "inception.py Inception_V3_Weights.IMAGENET1K_V1"),
        default=True),
    # timm inception_v3.py default_cfgs['inception_v3.tf_in1k'] url (v0.1-weights); timm's
    # results: 77.866 / 93.644. timm's licence is Apache-2.0; no size is published.
    PublishedWeights(
        "inception_v3.tf_in1k", "timm", "tf_inception_v3-e0069de4.pth",
        _TIMM_URL + "v0.1-weights/tf_inception_v3-e0069de4.pth",
        _sha256_prefix("tf_inception_v3-e0069de4.pth"), None, "Apache-2.0 (timm)",
        Accuracy(77.866, 93.644, _TIMM_RESULTS + " inception_v3.tf_in1k")),
    # keras/src/applications/inception_v3.py: WEIGHTS_PATH, file_hash
    # "9a0d58056eeedaa3f26cb7ebd46da564"; keras.io: InceptionV3 92 MB, 77.9% / 93.7%.
    # Keras' licence is Apache-2.0.
    PublishedWeights(
        "inception_v3_keras.in1k", "keras", "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        _KERAS_URL + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        Checksum("md5", "9a0d58056eeedaa3f26cb7ebd46da564"), 92.0, "Apache-2.0 (Keras)",
        Accuracy(77.9, 93.7, _KERAS_TABLE + " InceptionV3"), default=True),
    # WEIGHTS_PATH_NO_TOP, file_hash "bcbd6486424b2319ff4ef7d526e38f63". No classifier, so
    # no accuracy; keras.io gives the size of the model with its top only.
    PublishedWeights(
        "inception_v3_keras.in1k_notop", "keras",
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        _KERAS_URL + "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        Checksum("md5", "bcbd6486424b2319ff4ef7d526e38f63"), None, "Apache-2.0 (Keras)",
        None),
    # timm inception_v4.py default_cfgs['inception_v4.tf_in1k'] url (v0.1-cadene: Cadene's
    # file, pretrainedmodels/models/inceptionv4.py, rehosted); timm's results 80.144 /
    # 94.982. No size is published.
    PublishedWeights(
        "inception_v4.tf_in1k", "timm", "inceptionv4-8e4777a0.pth",
        _TIMM_URL + "v0.1-cadene/inceptionv4-8e4777a0.pth",
        _sha256_prefix("inceptionv4-8e4777a0.pth"), None, "Apache-2.0 (timm)",
        Accuracy(80.144, 94.982, _TIMM_RESULTS + " inception_v4.tf_in1k"), default=True),
    # timm inception_resnet_v2.py default_cfgs['inception_resnet_v2.tf_in1k'] url
    # (v0.1-weights, Ross Wightman's TF port); timm's results 80.434 / 95.312.
    PublishedWeights(
        "inception_resnet_v2.tf_in1k", "timm", "inception_resnet_v2-940b1cd6.pth",
        _TIMM_URL + "v0.1-weights/inception_resnet_v2-940b1cd6.pth",
        _sha256_prefix("inception_resnet_v2-940b1cd6.pth"), None, "Apache-2.0 (timm)",
        Accuracy(80.434, 95.312, _TIMM_RESULTS + " inception_resnet_v2.tf_in1k"),
        default=True),
    # Cadene pretrainedmodels/models/inceptionresnetv2.py url; README: InceptionResNetV2,
    # "Our porting", 80.170 / 95.234. The repository's licence is BSD-3-Clause.
    PublishedWeights(
        "inception_resnet_v2.cadene_in1k", "timm", "inceptionresnetv2-520b38e4.pth",
        _CADENE_URL + "inceptionresnetv2-520b38e4.pth",
        _sha256_prefix("inceptionresnetv2-520b38e4.pth"), None,
        "BSD-3-Clause (pretrainedmodels)",
        Accuracy(80.170, 95.234, _CADENE_README + " InceptionResNetV2")),
    # keras/src/applications/inception_resnet_v2.py: BASE_WEIGHT_URL + fname, file_hash
    # "e693bd0210a403b3192acc6073ad2e96"; keras.io: InceptionResNetV2 215 MB, 80.3 / 95.3.
    PublishedWeights(
        "inception_resnet_v2.keras_in1k", "keras",
        "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
        _KERAS_URL + "inception_resnet_v2/"
        "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
        Checksum("md5", "e693bd0210a403b3192acc6073ad2e96"), 215.0, "Apache-2.0 (Keras)",
        Accuracy(80.3, 95.3, _KERAS_TABLE + " InceptionResNetV2")),
    # The same file without the top: file_hash "d19885ff4a710c122648d3b5c3b684e4"; no
    # classifier, no accuracy, no published size.
    PublishedWeights(
        "inception_resnet_v2.keras_in1k_notop", "keras",
        "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        _KERAS_URL + "inception_resnet_v2/"
        "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
        Checksum("md5", "d19885ff4a710c122648d3b5c3b684e4"), None, "Apache-2.0 (Keras)",
        None),
    # Cadene pretrainedmodels/models/bninception.py url; README: BNInception, "Our
    # porting", 73.524 / 91.562. No size is published.
    PublishedWeights(
        "bn_inception.caffe_in1k", "timm", "bn_inception-52deb4733.pth",
        _CADENE_URL + "bn_inception-52deb4733.pth",
        _sha256_prefix("bn_inception-52deb4733.pth"), None, "BSD-3-Clause (pretrainedmodels)",
        Accuracy(73.524, 91.562, _CADENE_README + " BNInception"), default=True),
)

RELEASE_NAMES: tuple[str, ...] = tuple(entry.name for entry in CATALOGUE)


def find_release(name: str) -> PublishedWeights | None:
    """The entry called ``name``, or None."""
    return next((entry for entry in CATALOGUE if entry.name == name), None)


def get_release(name: str) -> PublishedWeights:
    """The entry called ``name``; an unknown name raises a one-line
    :class:`UnknownReleaseError` with the closest names (see :func:`release_hint`)."""
    entry = find_release(name)
    if entry is None:
        raise UnknownReleaseError(f"unknown weights release {name!r}{release_hint(name)}")
    return entry


def release_hint(name: str) -> str:
    """What ``name`` may have meant: the closest release names or, for a model name, its
    default release; then where to look them up."""
    default = default_release(name)
    if default is not None:
        hint = f"; {name} is a model: its default weights are {default.name}"
    else:
        close = difflib.get_close_matches(name, RELEASE_NAMES, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"{hint} (see `googlenet weights list`)"


def default_release(model: str) -> PublishedWeights | None:
    """The release ``create_model(model, pretrained=True)`` loads, or None."""
    return next((e for e in CATALOGUE if e.model == model and e.default), None)
