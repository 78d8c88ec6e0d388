"""What every network the package builds offers, as a type: :class:`Network`.

:class:`~googlenet.models.InceptionNet` and :class:`~googlenet.models.transfer.TransferModel`
both satisfy it, so code that takes "a model" reads ``in_chans`` or ``spec`` through
:func:`as_network` instead of probing with ``getattr`` and a guessed default.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..errors import SpecError
from ..specs.types import NetSpec


@runtime_checkable
class Network(Protocol):
    """A network built by this package (a registry model or a backbone cut with a head)."""

    in_chans: int
    """Input channels (1 for grayscale models)."""
    num_classes: int
    """Outputs of the classifier (0: none, ``model(x)`` returns pooled features)."""
    min_input_size: int
    """The smallest input side the network takes."""

    @property
    def spec(self) -> NetSpec:
        """The architecture as data (a transfer model's: its backbone's)."""
        ...

    @property
    def fixed_input_size(self) -> bool:
        """True when the network takes one input size only (a head that flattens a map)."""
        ...


def as_network(model: object) -> Network:
    """``model`` as a :class:`Network`; a module the package did not build is refused
    with a one-line error naming its class."""
    if not isinstance(model, Network):
        raise SpecError(f"{type(model).__name__} is not a googlenet network (it lacks "
                        "in_chans, num_classes, spec or min_input_size)")
    return model
