"""A registered model as one piece of data: its spec, what is known before it is built, and
its pretrained releases. Each family module (``specs/googlenet.py`` ...) exports its models
as a tuple ``ENTRIES`` of :class:`ModelInfo`; ``specs/__init__.py`` collects them in
:data:`~googlenet.specs.FAMILIES`, and the registry (``googlenet.models.MODELS``), the
importers' release table (``googlenet.weights.sources.RELEASES``) and the download
catalogue (``googlenet.weights.catalogue.CATALOGUE``) are views over them. So adding a
member is one file plus its tests, and its name is typed once, in its :class:`NetSpec`.

Pure data: the importers that read a release's files live in ``googlenet.weights`` and are
named here by their ``source`` string (``googlenet convert --from``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..download import Checksum
from ..errors import SpecError
from ..preprocessing import Preprocessing, eval_resize_size
from .types import NetSpec


@dataclass(frozen=True)
class Release:
    """One published set of weights: the importer that reads it (``source``), the file
    names it is known by, the preprocessing it was trained with, and the model it fills
    (``model``: set by the :class:`ModelInfo` that lists it)."""

    source: str
    files: tuple[str, ...]
    preprocessing: Preprocessing
    note: str
    model: str = ""


@dataclass(frozen=True)
class Accuracy:
    """Published ImageNet-1k validation accuracy (percent) and who published it where."""

    top1: float
    top5: float
    source: str


@dataclass(frozen=True)
class PublishedWeights:
    """One downloadable file of a :class:`Release`, named ``<model>.<tag>``
    (``googlenet_bn.tv_in1k``). ``size_mb`` is the publisher's own figure (MB as the
    publisher counts them), for display only; the checksum is what guards the bytes."""

    tag: str
    release: Release  # one of its model's releases: the importer and preprocessing
    file: str
    url: str
    checksum: Checksum | None
    size_mb: float | None
    licence: str
    accuracy: Accuracy | None
    default: bool = False  # the model's release for create_model(name, pretrained=True)

    @property
    def model(self) -> str:
        """The registry model the release fills."""
        return self.release.model

    @property
    def name(self) -> str:
        """The catalogue name: the model, a dot, the tag."""
        return f"{self.model}.{self.tag}"

    @property
    def source(self) -> str:
        """The importer (``googlenet convert --from``)."""
        return self.release.source

    @property
    def preprocessing(self) -> Preprocessing:
        return self.release.preprocessing


@dataclass(frozen=True)
class ModelInfo:
    """What is known about a registered model before it is built, and its releases.

    ``num_params`` counts the default model without aux heads; ``num_params_with_aux``
    with them (None when it has none). ``releases`` are the files ``googlenet convert``
    imports into it; ``weights`` the ones ``googlenet weights`` downloads by name (in the
    catalogue's order), each a file of one of ``releases``. Both are handed back bound
    to this model (:attr:`Release.model`), so a family module never types the name again.
    """

    spec: NetSpec
    description: str
    paper: str
    min_input_size: int
    num_params: int
    num_params_with_aux: int | None = None
    releases: tuple[Release, ...] = ()
    weights: tuple[PublishedWeights, ...] = ()

    def __post_init__(self) -> None:
        bound = tuple(replace(r, model=self.name) for r in self.releases)
        weights = []
        for w in self.weights:
            if w.release not in self.releases:
                raise SpecError(f"{self.name}: weights {w.tag!r} are a file of a release "
                                f"that is not in its releases")
            weights.append(replace(w, release=bound[self.releases.index(w.release)]))
        # A frozen dataclass binds its own fields once, here, through object.__setattr__.
        object.__setattr__(self, "releases", bound)
        object.__setattr__(self, "weights", tuple(weights))

    @property
    def name(self) -> str:
        """The registry name: its spec's, the one place it is written."""
        return self.spec.name

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
