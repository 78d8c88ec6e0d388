"""The pretrained releases ``googlenet convert`` reads, with the preprocessing each expects.

This table is the one place these facts live: ``convert`` writes them into every file it
makes, and ``googlenet info MODEL`` lists them, so a registry model's defaults (what a
fresh model is trained with) never silently stand in for a release's.
"""

from __future__ import annotations

from dataclasses import dataclass

from googlenet.errors import WeightsError
from googlenet.preprocessing import Preprocessing
from googlenet.specs.bn_inception import CAFFE_MEAN_BGR

SOURCES = ("torchvision", "keras", "caffe", "timm")

# Inception-style input: x / 127.5 - 1, i.e. mean = std = 0.5 on 0..1 RGB pixels.
_HALF = (0.5, 0.5, 0.5)
# ...at 299x299, the centre 87.5% of the image (TF-slim's central_crop(0.875)): 342 -> 299.
_INCEPTION_299 = Preprocessing(mean=_HALF, std=_HALF, input_size=299, resize_size=342)


@dataclass(frozen=True)
class Release:
    """One published set of weights: where it comes from, which of our models it fills,
    the file names it is known by, and the preprocessing it was trained with."""

    source: str
    model: str
    files: tuple[str, ...]
    preprocessing: Preprocessing
    note: str


RELEASES: tuple[Release, ...] = (
    # From models/bvlc_googlenet/train_val.prototxt (transform_param: mirror, crop_size 224,
    # mean_value 104 / 117 / 123) and Caffe's image pipeline: images are decoded by OpenCV,
    # hence BGR, kept in the 0-255 range (transform_param sets no scale), the per-channel
    # mean is subtracted, and nothing divides by a std. The means are in the model's
    # channel order, B, G, R. The ImageNet LMDBs were built from images resized to
    # 256x256; at test time the data layer takes the centre 224x224 crop.
    Release("caffe", "googlenet", ("bvlc_googlenet.caffemodel",),
            Preprocessing(mean=(104.0, 117.0, 123.0), std=(1.0, 1.0, 1.0), scale=255.0,
                          channel_order="BGR", input_size=224, resize_size=256),
            "BVLC GoogLeNet: BGR pixels in 0..255 minus the per-channel mean"),
    # torchvision's pretrained GoogLeNet and Inception v3 were converted from TF-slim
    # checkpoints and run with transform_input=True: the model turns ImageNet-normalised
    # input back into (x - 0.5) / 0.5 before its first convolution. Our models have no
    # such step, so the preprocessing the weights really expect is written down instead.
    Release("torchvision", "googlenet_bn", ("googlenet-1378be20.pth",),
            Preprocessing(mean=_HALF, std=_HALF, input_size=224, resize_size=256),
            "torchvision googlenet (TF-slim weights): (x - 0.5) / 0.5"),
    Release("torchvision", "inception_v3", ("inception_v3_google-0cc3c7bd.pth",),
            _INCEPTION_299,
            "torchvision inception_v3 (TF-slim weights): (x - 0.5) / 0.5"),
    # keras.applications.inception_v3.preprocess_input: x / 127.5 - 1, RGB, 299x299.
    Release("keras", "inception_v3_keras",
            ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
             "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"),
            _INCEPTION_299,
            "keras.applications.InceptionV3: x / 127.5 - 1"),
    # timm's default_cfgs for its TF-slim ports (inception_v4.tf_in1k, inception_v3.tf_in1k):
    # IMAGENET_INCEPTION_MEAN / _STD (0.5), 299x299, crop_pct 0.875, resized to
    # floor(299 / 0.875) = 341; Cadene's inceptionv4 settings say the same (input_range
    # [0, 1], mean = std = 0.5).
    Release("timm", "inception_v4",
            ("inceptionv4-8e4777a0.pth", "timm/inception_v4.tf_in1k model.safetensors"),
            Preprocessing(mean=_HALF, std=_HALF, input_size=299, resize_size=341),
            "timm / Cadene inception_v4 (TF-slim weights): (x - 0.5) / 0.5"),
    # Cadene's bninception, the Caffe BN-Inception: BGR pixels in 0..255 minus
    # CAFFE_MEAN_BGR, std 1; 224x224 crops of images resized to 256 (its 0.875 scale).
    Release("timm", "bn_inception", ("bn_inception-52deb4733.pth",),
            Preprocessing(mean=CAFFE_MEAN_BGR, std=(1.0, 1.0, 1.0), scale=255.0,
                          channel_order="BGR", input_size=224, resize_size=256),
            "Cadene bninception (Caffe BN-Inception): BGR pixels in 0..255 minus the mean"),
    # timm's TF port of Inception v3 has torchvision's layout and no aux head (its first
    # file, like Cadene's inception_v4, has TF-slim's 1001 classes; the importer drops
    # class 0, "background", as timm's label_offset=1 did).
    Release("timm", "inception_v3",
            ("tf_inception_v3-e0069de4.pth", "timm/inception_v3.tf_in1k model.safetensors"),
            Preprocessing(mean=_HALF, std=_HALF, input_size=299, resize_size=341),
            "timm inception_v3.tf_in1k (TF-slim weights): (x - 0.5) / 0.5"),
    # keras.applications.inception_resnet_v2.preprocess_input: the same mode "tf".
    Release("keras", "inception_resnet_v2",
            ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
             "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
            _INCEPTION_299,
            "keras.applications.InceptionResNetV2: x / 127.5 - 1"),
    # timm's default_cfg for inception_resnet_v2.tf_in1k (timm/models/inception_resnet_v2.py):
    # IMAGENET_INCEPTION_MEAN / _STD (0.5), 299x299, crop_pct 0.8975, which timm's eval
    # transform turns into a resize to floor(299 / 0.8975) = 333 (timm resizes bicubic,
    # Preprocessing bilinear). Cadene's inceptionresnetv2 settings: input_range [0, 1],
    # mean = std = 0.5, 299; its file and timm's first (-940b1cd6, label_offset=1) have
    # TF-slim's 1001 classes, whose "background" the importer drops.
    Release("timm", "inception_resnet_v2",
            ("inceptionresnetv2-520b38e4.pth", "inception_resnet_v2-940b1cd6.pth",
             "timm/inception_resnet_v2.tf_in1k model.safetensors"),
            Preprocessing(mean=_HALF, std=_HALF, input_size=299, resize_size=333),
            "timm / Cadene inception_resnet_v2 (TF-slim weights): (x - 0.5) / 0.5"),
)


def releases_for(source: str | None = None, model: str | None = None) -> list[Release]:
    """The releases of ``source`` and/or for ``model`` (both optional filters)."""
    return [r for r in RELEASES
            if (source is None or r.source == source) and (model is None or r.model == model)]


def release(source: str, model: str) -> Release:
    """The release of ``source`` that fills ``model``; a pair that does not exist raises
    a one-line error listing the models ``source`` fills."""
    if source not in SOURCES:
        raise WeightsError(f"unknown source {source!r} (one of {', '.join(SOURCES)})")
    found = releases_for(source, model)
    if not found:
        models = ", ".join(r.model for r in releases_for(source))
        raise WeightsError(f"{source} weights load into {models}, not {model!r}")
    return found[0]
