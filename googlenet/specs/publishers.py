"""Where the publishers of pretrained weights serve their files and print their figures,
shared by the families' release entries (:class:`~googlenet.specs.entry.PublishedWeights`).

Every fact is copied from the publisher's own source, cited beside it; a family module
cites the entry-specific facts (file, checksum, size, accuracy) beside each entry.
"""

from __future__ import annotations

from ..download import Checksum
from ..preprocessing import Preprocessing

# Inception-style input: x / 127.5 - 1, i.e. mean = std = 0.5 on 0..1 RGB pixels.
HALF = (0.5, 0.5, 0.5)
# ...at 299x299, the centre 87.5% of the image (TF-slim's central_crop(0.875)): 342 -> 299.
INCEPTION_299 = Preprocessing(mean=HALF, std=HALF, input_size=299, resize_size=342)
# timm's default_cfgs for its TF-slim ports (inception_v4.tf_in1k, inception_v3.tf_in1k):
# IMAGENET_INCEPTION_MEAN / _STD (0.5), 299x299, crop_pct 0.875, resized to
# floor(299 / 0.875) = 341; Cadene's inceptionv4 settings say the same (input_range
# [0, 1], mean = std = 0.5).
TIMM_INCEPTION_299 = Preprocessing(mean=HALF, std=HALF, input_size=299, resize_size=341)


def sha256_prefix(file: str) -> Checksum:
    """torch.hub's convention, used by torchvision, timm and Cadene's pretrainedmodels: a
    file is named ``<stem>-<first hex digits of its sha256>.pth``, and torch.hub's
    ``HASH_REGEX = re.compile(r"-([a-f0-9]*)\\.")`` (torch/hub.py) reads the prefix back
    to check the download (timm: timm/models/_hub.py, check_hash=True; the names are
    made by timm's clean_checkpoint.py, sha_hash[:8])."""
    return Checksum("sha256", file.rsplit("-", 1)[1].split(".", 1)[0])


TV = "pytorch/vision torchvision/models/"
TV_URL = "https://download.pytorch.org/models/"
# The Keras applications' weights: keras-team/keras keras/src/applications/*.py
# (WEIGHTS_PATH / BASE_WEIGHT_URL and file_utils.get_file(..., file_hash=...): a
# 32-digit hash is md5, keras/src/utils/file_utils.py resolve_hasher "auto").
KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
# keras-team/keras-io templates/api/applications/index.md (keras.io/api/applications):
# "Size (MB)", "Top-1 Accuracy", "Top-5 Accuracy" of the model with its top.
KERAS_TABLE = "keras.io/api/applications table (keras-team/keras-io)"
# huggingface/pytorch-image-models timm/models/*.py default_cfgs before commit 960a8825
# (2023-05-09), which moved these TF-origin files (1001 classes, label_offset=1) to the
# Hugging Face hub; the github release URLs are the ones timm served them from.
TIMM_URL = "https://github.com/rwightman/pytorch-image-models/releases/download/"
# huggingface/pytorch-image-models results/results-imagenet.csv: timm's own evaluation
# (bicubic, its crop_pct) of the same weights under their hub names.
TIMM_RESULTS = "timm results/results-imagenet.csv"
# Cadene/pretrained-models.pytorch pretrainedmodels/models/*.py pretrained_settings (url);
# its README's "Accuracy on validation set (single model)" table ("Our porting").
CADENE_URL = "http://data.lip6.fr/cadene/pretrainedmodels/"
CADENE_README = "Cadene/pretrained-models.pytorch README.md"
