"""What a service's handlers are given, and how they ask for it: one typed object per service.

Each service's `app.py` (its composition root, the only place that builds its unit of work) makes one
`Wiring`, or a subclass naming the further parts its handlers need (cohort's activity batcher, notify's
templates and sender), and hands it to `msgkit.runtime.build_app`. Handlers ask for parts through the
aliases below, so mypy sees every type and no dependency travels in a dict:

    async def on_record_consent(command: RecordConsent, uow: UoW[ConsentUnitOfWork], now: Now) -> Reply:
        return await services.record_consent(command, uow, now)

Use cases take `now` (the moment the message is handled), never a clock: only the composition root and
the background workers (relay, dispatcher, sweepers) hold a `Clock`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from faststream import Context, Depends

from msgkit.clock import Clock
from msgkit.uow import UnitOfWork

U = TypeVar("U", bound=UnitOfWork)
W = TypeVar("W", bound="Wiring[Any]")

# The name the wiring is known by in FastStream's context (set by build_app).
CONTEXT_NAME = "wiring"


@dataclass(frozen=True, slots=True)
class Wiring(Generic[U]):
    """A service's parts: a fresh unit of work per use, and the clock. Subclass to add more."""

    new_uow: Callable[[], U]
    clock: Clock


# faststream.Context is a function returning an instance of this (not publicly exported) class.
_ContextField: Any = type(Context(CONTEXT_NAME))


class _OnTheLoop(_ContextField):  # type: ignore[misc]
    """FastStream's Context, resolved on the event loop.

    FastDepends 3 runs a custom field's synchronous `use` (FastStream's Context has one) in a worker
    thread: a thread hand-off per parameter per message, ~130 us idle and up to the interpreter's 5 ms
    switch interval when the loop is busy. An `async` use is awaited in place. For the same reason every
    dependency below is `async def`: FastDepends runs a sync one in a thread too.
    """

    async def use(self, /, **kwargs: Any) -> dict[str, Any]:
        resolved: dict[str, Any] = super().use(**kwargs)
        return resolved


def context_param(name: str) -> Any:
    """The default of a dependency's parameter that FastStream's context fills: `wiring = context_param("wiring")`."""
    return _OnTheLoop(name)


async def _wiring(wiring: Any = context_param(CONTEXT_NAME)) -> Any:
    return wiring


async def _uow(wiring: Any = context_param(CONTEXT_NAME)) -> Any:
    return wiring.new_uow()


async def _now(wiring: Any = context_param(CONTEXT_NAME)) -> datetime:
    now: datetime = wiring.clock.now()
    return now


# A fresh unit of work per message: `uow: UoW[SessionsUnitOfWork]`.
UoW = Annotated[U, Depends(_uow, cast=False)]
# The moment the message is handled, from the wiring's clock (tests fix or move it).
Now = Annotated[datetime, Depends(_now, cast=False)]
# The service's whole wiring, for parts beyond these two: `wiring: Wired[CohortWiring]`.
Wired = Annotated[W, Depends(_wiring, cast=False)]
