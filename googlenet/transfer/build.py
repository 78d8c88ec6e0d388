"""Build transfer models from weights files, and rebuild any saved model from its metadata."""

from __future__ import annotations

import os
from dataclasses import asdict, replace

import torch
from torch import nn

from googlenet.data.transforms import eval_resize_size
from googlenet.errors import WeightsError
from googlenet.models import create_model, get_model_info
from googlenet.models.inception_net import InceptionNet
from googlenet.transfer.model import HeadOptions, TransferConfig, TransferModel
from googlenet.weights.meta import (
    Preprocessing,
    WeightsMeta,
    load_weights_file,
    read_weights_meta,
)


def _registry_preprocessing(model: str) -> Preprocessing:
    """What a fresh registry ``model`` expects: its mean/std at its input size."""
    info = get_model_info(model)
    return Preprocessing(mean=info.mean, std=info.std, input_size=info.input_size,
                         resize_size=eval_resize_size(info.input_size))


def load_backbone(
    weights: str | os.PathLike[str] | None, model: str | None = None
) -> tuple[InceptionNet, Preprocessing, WeightsMeta | None]:
    """The pretrained model in ``weights`` (or a fresh ``model`` when None), with the
    preprocessing its weights expect."""
    if weights is None:
        if model is None:
            raise WeightsError("give weights to fine-tune (or a model name to start fresh)")
        net = create_model(model, aux_logits=False)
        assert isinstance(net, InceptionNet)
        return net, _registry_preprocessing(model), None
    state, meta = load_weights_file(weights)
    if meta.transfer is not None:
        raise WeightsError(f"{weights}: already a fine-tuned transfer model; give the "
                           "backbone's weights")
    if model is not None and model != meta.model:
        raise WeightsError(f"{weights}: holds {meta.model} weights, not {model}")
    net = create_model(meta.model, **meta.model_kwargs)
    _load_strict(net, state, weights)
    assert isinstance(net, InceptionNet)
    return net, meta.preprocessing, meta


def _load_strict(model: nn.Module, state: dict[str, torch.Tensor],
                 path: str | os.PathLike[str]) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    extra = [k for k in state if k not in own]
    bad = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or extra or bad:
        what = (f"no tensor for {missing[0]}" if missing else f"unexpected tensor {extra[0]}"
                if extra else f"{bad[0]} is {tuple(state[bad[0]].shape)}, the model has "
                f"{tuple(own[bad[0]].shape)}")
        raise WeightsError(f"{path}: weights do not fit the model its metadata names ({what})")
    model.load_state_dict(state, strict=False)


def _first_conv(model: nn.Module) -> nn.Conv2d:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d))


def rgb_preprocessing(pre: Preprocessing, input_size: int | None = None) -> Preprocessing:
    """``pre`` for RGB pixels in 0..1 (what the training pipeline speaks), at
    ``input_size`` when given. A BGR ``pre`` goes with :func:`as_rgb`."""
    mean, std = pre.unit_mean, pre.unit_std
    if pre.channel_order == "BGR":
        mean, std = mean[::-1], std[::-1]
    out = replace(pre, channel_order="RGB", scale=1.0, mean=mean, std=std)
    if input_size and input_size != pre.input_size:
        out = replace(out, input_size=input_size, resize_size=eval_resize_size(input_size))
    return out


def as_rgb(backbone: nn.Module, pre: Preprocessing) -> Preprocessing:
    """Make a BGR-trained backbone (Caffe) take RGB input, exactly: flipping the input
    channels of the first convolution equals flipping the image. Returns the equivalent
    RGB preprocessing in 0..1 units."""
    if pre.channel_order == "BGR":
        conv = _first_conv(backbone)
        with torch.no_grad():
            conv.weight.copy_(conv.weight.flip(1))
    return rgb_preprocessing(pre)


def transfer_preprocessing(
    weights: str | os.PathLike[str] | None, model: str | None = None,
    input_size: int | None = None,
) -> tuple[str, Preprocessing]:
    """The backbone name and the RGB preprocessing :func:`build_transfer_model` will use,
    from the weights' metadata alone (no tensors are read)."""
    if weights is None:
        if model is None:
            raise WeightsError("give weights to fine-tune (or a model name to start fresh)")
        return model, rgb_preprocessing(_registry_preprocessing(model), input_size)
    meta = read_weights_meta(weights)
    return meta.model, rgb_preprocessing(meta.preprocessing, input_size)


def build_transfer_model(
    weights: str | os.PathLike[str] | None,
    *,
    cut: str,
    num_classes: int,
    model: str | None = None,
    head: HeadOptions | str = "classes",
    input_size: int | None = None,
    freeze: bool = True,
) -> tuple[TransferModel, Preprocessing]:
    """The backbone of ``weights`` cut at ``cut`` with a new head (backbone frozen).

    ``head`` is a :class:`HeadOptions`, or just its kind ("classes" or "binary").

    ``input_size`` defaults to the weights' own; any size the backbone accepts works
    (Keras users often fine-tune Inception v3 at 150x150). Returns the model and the
    RGB preprocessing to train and predict with.
    """
    backbone, pre, meta = load_backbone(weights, model)
    as_rgb(backbone, pre)
    pre = rgb_preprocessing(pre, input_size)
    size = pre.input_size
    if size < backbone.min_input_size:
        raise WeightsError(f"input size {size} is below {backbone.spec.name}'s minimum "
                           f"{backbone.min_input_size}")
    name = meta.model if meta else backbone.spec.name
    kwargs = dict(meta.model_kwargs) if meta else {"aux_logits": False}
    cfg = TransferConfig(backbone=name, cut=cut, num_classes=num_classes,
                         **asdict(HeadOptions.of(head)), input_size=size,
                         backbone_kwargs=kwargs)
    net = TransferModel(backbone, cfg)
    if freeze:
        net.freeze_backbone()
    return net, pre


def transfer_from_config(cfg: TransferConfig) -> TransferModel:
    """A :class:`TransferModel` with the architecture ``cfg`` describes (fresh weights)."""
    backbone = create_model(cfg.backbone, **dict(cfg.backbone_kwargs or {}))
    assert isinstance(backbone, InceptionNet)
    return TransferModel(backbone, cfg)


def load_model(path: str | os.PathLike[str]) -> tuple[nn.Module, WeightsMeta]:
    """Rebuild the model any googlenet weights file describes (imported, trained or
    fine-tuned) and load its weights; eval mode."""
    state, meta = load_weights_file(path)
    if meta.transfer is not None:
        try:
            cfg = TransferConfig(**meta.transfer)
        except TypeError as err:
            raise WeightsError(f"{path}: damaged transfer metadata ({err})") from None
        net: nn.Module = transfer_from_config(cfg)
    else:
        net = create_model(meta.model, **meta.model_kwargs)
    _load_strict(net, state, path)
    return net.eval(), meta


def load_rgb_model(path: str | os.PathLike[str]) -> tuple[nn.Module, WeightsMeta]:
    """:func:`load_model`, with the model made to take RGB 0..1 input normalised by
    ``meta.preprocessing.mean/std`` (a BGR Caffe model gets its first convolution's input
    channels flipped, which is exact), for pipelines that only know mean and std."""
    net, meta = load_model(path)
    meta.preprocessing = as_rgb(net, meta.preprocessing)
    return net, meta
