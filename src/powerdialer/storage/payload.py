"""What the group-commit writer (:mod:`powerdialer.storage.writer`) is handed: a ``Payload``.

A payload is one piece of work for the writer's next transaction: a compatible row
(``rows.Intake``), a bulk request, an import job's rows or progress, an idempotency claim.
Its class says how the writer treats it, through four attributes that the writer reads for
every item (as plain attributes: no ``getattr`` with a default, no ``isinstance`` chain):

- ``background`` (class-wide): an import's rows.  Several share one transaction, after the
  live payloads, and a live payload never waits behind more than one of them.
- ``patient`` (class-wide): a foreground payload nobody waits on (an import job's progress):
  it rides along with the background ones instead of cutting their transaction short.
- ``durable``: whether its commit must be fsynced before it is answered; by default every
  payload but a background one.
- ``weight``: the rows it adds to a transaction (1; a bulk request: its rows), so that one
  transaction stays bounded however requests mix.

``Payload[R]`` names what the write answers: ``await writer.submit(payload)`` is an ``R``,
so mypy checks what the caller does with it.  The apply function of a payload class stores
a batch of them in the writer's transaction and returns, in order, one ``R`` per payload or
the exception that is that item's failure (raised to its caller alone).

Each package declares its payloads with their apply functions as ``WRITES``
(``{Intake: apply_intakes}``) beside them; the app merges the packages' tables into its one
writer (:func:`merge_writes`, ``web/app.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from sqlalchemy import Connection

R = TypeVar("R")  # what one payload's write answers
P = TypeVar("P", bound="Payload[Any]")

ApplyFn = Callable[[Connection, Sequence[P]], Sequence[Any]]
"""Stores a batch of one payload class; one answer (or ``Exception``) per payload."""
Writes = Mapping[type["Payload[Any]"], ApplyFn[Any]]
"""Payload classes and the apply function of each: what one package hands the writer."""


class Payload(Generic[R]):
    """The base of every writer payload; subclasses are (frozen, slotted) dataclasses."""

    __slots__ = ()
    background: ClassVar[bool] = False
    patient: ClassVar[bool] = False
    lane: ClassVar[str] = ""  # a writer lane of its own, where the writer has it (writer.py)
    if TYPE_CHECKING:  # read-only to callers; a subclass may answer per instance

        @property
        def durable(self) -> bool: ...

        @property
        def weight(self) -> int: ...

    else:
        # Plain class attributes, not properties: the writer reads both for every payload,
        # and a compatible row is one payload (a property is one Python call more a row).
        # A background payload class gets ``durable = False`` (``__init_subclass__``).
        durable = True
        weight = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.background and "durable" not in cls.__dict__:
            cls.durable = False  # type: ignore[assignment]  # a background payload: no fsync


def merge_writes(*tables: Writes) -> dict[type[Payload[Any]], ApplyFn[Any]]:
    """One table for the writer from the packages' ``WRITES``; a payload class claimed
    twice is a wiring mistake, refused at startup."""
    merged: dict[type[Payload[Any]], ApplyFn[Any]] = {}
    for table in tables:
        for kind, apply in table.items():
            if kind in merged:
                raise ValueError(f"{kind.__name__} has two apply functions")
            merged[kind] = apply
    return merged
