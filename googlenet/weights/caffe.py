"""Read (and, for tests, write) BVLC Caffe ``.caffemodel`` files without Caffe or protoc.

A ``.caffemodel`` is one serialized ``caffe.NetParameter`` protobuf message. Only a handful
of its fields carry weights, so this module decodes the protobuf wire format by hand
instead of depending on Caffe's generated ``caffe_pb2``. Field numbers, from
``src/caffe/proto/caffe.proto`` of BVLC/caffe (checked against a copy of that file; high
confidence):

- ``NetParameter``: ``name = 1`` (string), ``layer = 100`` (LayerParameter, the current
  format), ``layers = 2`` (V1LayerParameter, deprecated; files written before 2015).
- ``LayerParameter``: ``name = 1``, ``type = 2`` (string such as "Convolution"),
  ``blobs = 7``.
- ``V1LayerParameter``: ``name = 4``, ``type = 5`` (enum LayerType), ``blobs = 6``.
- ``BlobProto``: ``shape = 7`` (BlobShape: ``dim = 1``, packed int64),
  ``data = 5`` (packed float), ``double_data = 8`` (packed double), and the deprecated 4-D
  shape ``num = 1``, ``channels = 2``, ``height = 3``, ``width = 4``.

Blobs are returned with the shape stored in the file. Files in the legacy 4-D layout store
an InnerProduct weight as ``(1, 1, out, in)`` and its bias as ``(1, 1, 1, out)``; importers
reshape after checking the element count, as Caffe itself does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from googlenet.atomic import atomic_path
from googlenet.errors import WeightsError
from googlenet.specs.googlenet import TABLE1

__all__ = [
    "GOOGLENET_BLOCKS",
    "INCEPTION_BRANCH_LAYERS",
    "CaffeLayer",
    "bvlc_googlenet_layer_names",
    "bvlc_googlenet_layers",
    "read_caffemodel",
    "write_caffemodel",
]

# --- facts about the BVLC GoogLeNet release ---------------------------------------------

# Table 1 of Szegedy et al. (2014): the nine Inception modules in order (3a .. 5b).
GOOGLENET_BLOCKS: tuple[str, ...] = tuple(
    row.name.removeprefix("inception_") for row in TABLE1 if row.type == "inception")

# Parametrised layers inside one BVLC Inception module, in prototxt order.
INCEPTION_BRANCH_LAYERS: tuple[str, ...] = (
    "1x1",
    "3x3_reduce",
    "3x3",
    "5x5_reduce",
    "5x5",
    "pool_proj",
)


def bvlc_googlenet_layers(
    blocks: Sequence[str] = GOOGLENET_BLOCKS,
    *,
    aux_after: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """Return ``(name, type)`` of every parametrised BVLC GoogLeNet layer, in net order.

    ``blocks`` are Table 1's Inception module names. ``aux_after`` maps a block to the
    prefix of the auxiliary classifier that branches off after it; the default is the
    paper's two heads, ``{"4a": "loss1", "4d": "loss2"}``. Pass ``{}`` for the deploy net,
    which has no auxiliary heads. The aux layers come right after their block, as in
    ``train_val.prototxt`` and hence in the released ``bvlc_googlenet.caffemodel``.
    """
    if aux_after is None:
        aux_after = {"4a": "loss1", "4d": "loss2"}
    unknown = set(aux_after) - set(blocks)
    if unknown:
        raise ValueError(f"aux_after names blocks not in blocks: {sorted(unknown)}")
    layers = [
        ("conv1/7x7_s2", "Convolution"),
        ("conv2/3x3_reduce", "Convolution"),
        ("conv2/3x3", "Convolution"),
    ]
    for block in blocks:
        layers += [(f"inception_{block}/{part}", "Convolution") for part in INCEPTION_BRANCH_LAYERS]
        if block in aux_after:
            head = aux_after[block]
            layers += [
                (f"{head}/conv", "Convolution"),
                (f"{head}/fc", "InnerProduct"),
                (f"{head}/classifier", "InnerProduct"),
            ]
    layers.append(("loss3/classifier", "InnerProduct"))
    return layers


def bvlc_googlenet_layer_names(
    blocks: Sequence[str] = GOOGLENET_BLOCKS,
    *,
    aux_after: Mapping[str, str] | None = None,
) -> list[str]:
    """Return the names of :func:`bvlc_googlenet_layers`, e.g. ``"inception_3a/pool_proj"``."""
    return [name for name, _ in bvlc_googlenet_layers(blocks, aux_after=aux_after)]


# --- protobuf wire format -----------------------------------------------------------------

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5

# Field numbers (see the module docstring).
_NET_NAME, _NET_LAYER, _NET_LAYERS_V1 = 1, 100, 2
_LAYER_NAME, _LAYER_TYPE, _LAYER_BLOBS = 1, 2, 7
_V1_NAME, _V1_TYPE, _V1_BLOBS = 4, 5, 6
_BLOB_NUM, _BLOB_CHANNELS, _BLOB_HEIGHT, _BLOB_WIDTH = 1, 2, 3, 4
_BLOB_DATA, _BLOB_SHAPE, _BLOB_DOUBLE_DATA = 5, 7, 8
_SHAPE_DIM = 1
_LEGACY_DIMS = (_BLOB_NUM, _BLOB_CHANNELS, _BLOB_HEIGHT, _BLOB_WIDTH)

# V1LayerParameter.LayerType, mapped to the type strings the current format uses.
_V1_TYPES: dict[int, str] = {
    0: "None", 1: "Accuracy", 2: "BNLL", 3: "Concat", 4: "Convolution", 5: "Data",
    6: "Dropout", 7: "EuclideanLoss", 8: "Flatten", 9: "HDF5Data", 10: "HDF5Output",
    11: "Im2col", 12: "ImageData", 13: "InfogainLoss", 14: "InnerProduct", 15: "LRN",
    16: "MultinomialLogisticLoss", 17: "Pooling", 18: "ReLU", 19: "Sigmoid", 20: "Softmax",
    21: "SoftmaxWithLoss", 22: "Split", 23: "TanH", 24: "WindowData", 25: "Eltwise",
    26: "Power", 27: "SigmoidCrossEntropyLoss", 28: "HingeLoss", 29: "MemoryData",
    30: "ArgMax", 31: "Threshold", 32: "DummyData", 33: "Slice", 34: "MVN", 35: "AbsVal",
    36: "Silence", 37: "ContrastiveLoss", 38: "Exp", 39: "Deconvolution",
}  # fmt: skip
_V1_TYPE_IDS = {name: number for number, name in _V1_TYPES.items()}

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class _Corrupt(Exception):
    """Internal: a decoding problem at a byte offset; turned into WeightsError at the top."""

    def __init__(self, offset: int, problem: str) -> None:
        super().__init__(problem)
        self.offset = offset
        self.problem = problem


def _read_varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    start = pos
    while True:
        if pos >= end:
            raise _Corrupt(start, "truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise _Corrupt(start, "varint longer than 10 bytes")


def _fields(buf: memoryview, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """Yield ``(field, wire_type, a, b)`` for each field of the message in ``buf[start:end]``.

    For varints ``a`` is the value; for the other wire types ``buf[a:b]`` is the payload.
    """
    pos = start
    while pos < end:
        key_at = pos
        key, pos = _read_varint(buf, pos, end)
        field, wire = key >> 3, key & 7
        if field == 0:
            raise _Corrupt(key_at, "field number 0")
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos, end)
            yield field, wire, value, pos
            continue
        if wire == _LEN:
            length, pos = _read_varint(buf, pos, end)
            size = length
        elif wire == _FIXED32:
            size = 4
        elif wire == _FIXED64:
            size = 8
        else:
            # Groups (3, 4) are not used by caffe.proto; 6 and 7 do not exist.
            raise _Corrupt(key_at, f"unsupported wire type {wire} for field {field}")
        if pos + size > end:
            raise _Corrupt(key_at, f"field {field} needs {size} bytes, only {end - pos} left")
        yield field, wire, pos, pos + size
        pos += size


def _signed64(value: int) -> int:
    # int64 varints encode negative numbers as 10-byte two's complement.
    return value - (1 << 64) if value >= 1 << 63 else value


def _string(buf: memoryview, a: int, b: int) -> str:
    try:
        return bytes(buf[a:b]).decode("utf-8")
    except UnicodeDecodeError:
        raise _Corrupt(a, "string field is not UTF-8") from None


def _packed_varints(buf: memoryview, wire: int, a: int, b: int) -> list[int]:
    # Protobuf parsers must accept repeated scalars both packed and one per field.
    if wire == _VARINT:
        return [_signed64(a)]
    if wire != _LEN:
        raise _Corrupt(a, f"unexpected wire type {wire} for an int64 list")
    values = []
    pos = a
    while pos < b:
        value, pos = _read_varint(buf, pos, b)
        values.append(_signed64(value))
    return values


def _packed_reals(buf: memoryview, wire: int, a: int, b: int, single: bool) -> np.ndarray:
    width, dtype, scalar_wire = (4, "<f4", _FIXED32) if single else (8, "<f8", _FIXED64)
    if wire not in (_LEN, scalar_wire):
        raise _Corrupt(a, f"unexpected wire type {wire} for a {dtype} list")
    if (b - a) % width:
        raise _Corrupt(a, f"packed {dtype} data of {b - a} bytes is not a multiple of {width}")
    return np.frombuffer(buf[a:b], dtype=dtype)


class CaffeLayer(NamedTuple):
    """One layer of a caffemodel: its type string and its blobs (float32, file shapes)."""

    type: str
    blobs: list[np.ndarray]


def _parse_blob(buf: memoryview, start: int, end: int, where: str) -> np.ndarray:
    chunks: list[np.ndarray] = []
    shape: list[int] | None = None
    legacy: dict[int, int] = {}
    for field, wire, a, b in _fields(buf, start, end):
        if field == _BLOB_DATA:
            chunks.append(_packed_reals(buf, wire, a, b, single=True))
        elif field == _BLOB_DOUBLE_DATA:
            chunks.append(_packed_reals(buf, wire, a, b, single=False).astype(np.float32))
        elif field == _BLOB_SHAPE and wire == _LEN:
            shape = shape or []
            for dim_field, dim_wire, c, d in _fields(buf, a, b):
                if dim_field == _SHAPE_DIM:
                    shape += _packed_varints(buf, dim_wire, c, d)
        elif field in _LEGACY_DIMS and wire == _VARINT:
            legacy[field] = _signed64(a)
    data = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    if shape is None and legacy:
        # The deprecated 4-D shape: Caffe treats unset dimensions as 0.
        shape = [legacy.get(f, 0) for f in _LEGACY_DIMS]
    if shape is None:
        shape = [data.size]
    if any(dim < 0 for dim in shape):
        raise _Corrupt(start, f"{where}: negative dimension in shape {tuple(shape)}")
    count = int(np.prod(shape, dtype=np.int64))
    if count != data.size:
        raise _Corrupt(
            start, f"{where}: shape {tuple(shape)} needs {count} values, file has {data.size}"
        )
    # astype copies, so the arrays do not keep the whole file buffer alive.
    return data.astype(np.float32).reshape(shape)


def _parse_layer(
    buf: memoryview, start: int, end: int, v1: bool, index: int
) -> tuple[str, str, list[np.ndarray]]:
    name_field, type_field, blobs_field = (
        (_V1_NAME, _V1_TYPE, _V1_BLOBS) if v1 else (_LAYER_NAME, _LAYER_TYPE, _LAYER_BLOBS)
    )
    name: str | None = None
    type_: str = ""
    blob_spans: list[tuple[int, int]] = []
    for field, wire, a, b in _fields(buf, start, end):
        if field == name_field and wire == _LEN:
            name = _string(buf, a, b)
        elif field == type_field and v1 and wire == _VARINT:
            type_ = _V1_TYPES.get(a, f"V1LayerType{a}")
        elif field == type_field and not v1 and wire == _LEN:
            type_ = _string(buf, a, b)
        elif field == blobs_field and wire == _LEN:
            blob_spans.append((a, b))
    if name is None:
        # V0 layers (nested in V1 field 1, pre-2014) carry their name elsewhere.
        raise _Corrupt(start, f"layer #{index} has no name (V0 layer format is not supported)")
    blobs = [
        _parse_blob(buf, a, b, f"layer {name!r} blob {i}") for i, (a, b) in enumerate(blob_spans)
    ]
    return name, type_, blobs


def read_caffemodel(path: str | os.PathLike[str]) -> dict[str, CaffeLayer]:
    """Read a binary ``.caffemodel`` into ``{layer name: CaffeLayer(type, blobs)}``.

    Layers keep the file's order and include those without blobs (ReLU, Pooling, ...).
    Both the current ``layer`` field and the legacy ``layers`` (V1) field are read; V1 type
    enums are turned into the current type strings ("Convolution", "InnerProduct", ...).
    Raises :class:`WeightsError` naming the file and the byte offset or layer on a missing,
    truncated or corrupt file.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WeightsError(f"{path}: caffemodel not found") from None
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read caffemodel ({exc.strerror or exc})") from None
    if raw.startswith(_HDF5_SIGNATURE):
        raise WeightsError(f"{path}: HDF5 caffemodel snapshots are not supported, only binaryproto")
    buf = memoryview(raw)
    layers: dict[str, CaffeLayer] = {}
    try:
        for field, wire, a, b in _fields(buf, 0, len(buf)):
            if field not in (_NET_LAYER, _NET_LAYERS_V1) or wire != _LEN:
                continue
            name, type_, blobs = _parse_layer(buf, a, b, field == _NET_LAYERS_V1, len(layers))
            if name in layers:
                # Train/test variants of a data layer share a name; weights never should.
                if blobs or layers[name].blobs:
                    raise _Corrupt(a, f"layer {name!r} appears twice with weights")
                continue
            layers[name] = CaffeLayer(type_, blobs)
    except _Corrupt as exc:
        raise WeightsError(
            f"{path}: corrupt or truncated caffemodel at byte {exc.offset}: {exc.problem}"
        ) from None
    if not layers:
        raise WeightsError(f"{path}: no layers found; not a Caffe NetParameter file")
    return layers


# --- writer (for tests and for making small fixture files) ---------------------------------


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _len_field(field: int, payload: bytes) -> bytes:
    return _key(field, _LEN) + _varint(len(payload)) + payload


def _encode_blob(array: np.ndarray, legacy: bool) -> bytes:
    array = np.asarray(array, dtype=np.float32)
    out = b""
    if legacy:
        if array.ndim > 4:
            raise ValueError(f"legacy blobs are at most 4-D, got shape {array.shape}")
        dims = (1,) * (4 - array.ndim) + array.shape
        for field, dim in zip(_LEGACY_DIMS, dims, strict=True):
            out += _key(field, _VARINT) + _varint(dim)
    out += _len_field(_BLOB_DATA, array.astype("<f4").tobytes())
    if not legacy:
        dims_payload = b"".join(_varint(d) for d in array.shape)
        out += _len_field(_BLOB_SHAPE, _len_field(_SHAPE_DIM, dims_payload))
    return out


def write_caffemodel(
    path: str | os.PathLike[str],
    layers: Mapping[str, tuple[str, Sequence[np.ndarray]]],
    *,
    net_name: str = "GoogleNet",
    legacy: bool = False,
) -> None:
    """Write ``{name: (type, blobs)}`` as a binary caffemodel, atomically.

    ``legacy=False`` writes the current ``layer`` field with ``BlobShape`` shapes;
    ``legacy=True`` writes V1 ``layers`` with enum types and 4-D ``num/channels/...``
    shapes (lower-rank blobs are padded with leading 1s, as old Caffe stored them).
    """
    out = bytearray(_len_field(_NET_NAME, net_name.encode("utf-8")))
    for name, (type_, blobs) in layers.items():
        if legacy:
            if type_ not in _V1_TYPE_IDS:
                raise ValueError(f"layer {name!r}: type {type_!r} has no V1 enum value")
            body = _len_field(_V1_NAME, name.encode("utf-8"))
            body += _key(_V1_TYPE, _VARINT) + _varint(_V1_TYPE_IDS[type_])
            body += b"".join(_len_field(_V1_BLOBS, _encode_blob(b, True)) for b in blobs)
            out += _len_field(_NET_LAYERS_V1, body)
        else:
            body = _len_field(_LAYER_NAME, name.encode("utf-8"))
            body += _len_field(_LAYER_TYPE, type_.encode("utf-8"))
            body += b"".join(_len_field(_LAYER_BLOBS, _encode_blob(b, False)) for b in blobs)
            out += _len_field(_NET_LAYER, body)
    with atomic_path(path) as tmp:
        tmp.write_bytes(out)
