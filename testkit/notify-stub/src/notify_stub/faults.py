"""Fault plans, a rolling rate limit and per-second counters for the GOV.UK Notify stub."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    """What the stub does to one send request instead of (or as well as) accepting it."""

    ERROR_500 = "500"  # 500 Exception, nothing recorded
    ERROR_429 = "429"  # 429 RateLimitError, nothing recorded
    ERROR_400 = "400"  # 400 ValidationError, nothing recorded
    ERROR_403 = "403"  # 403 AuthError, nothing recorded
    TIMEOUT = "timeout"  # no answer for `seconds`, then the connection closes; nothing recorded
    ACCEPT_THEN_DROP = "accept_then_drop"  # recorded, then the connection is dropped unanswered
    ACCEPT_THEN_500 = "accept_then_500"  # recorded, then answered 500 (Notify's own ambiguity)
    DELAY = "delay"  # answered normally after `seconds`
    # "Accepted after the client gave up": unanswered until the client closes the connection (its
    # timeout), then recorded `seconds` later, as GOV.UK Notify goes on with a request whose client left.
    ACCEPT_AFTER_GIVE_UP = "accept_after_give_up"


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    seconds: float = 5.0  # TIMEOUT, DELAY and ACCEPT_AFTER_GIVE_UP
    retry_after: float | None = None  # ERROR_429: sent as a Retry-After header when set

    @classmethod
    def parse(cls, raw: Any) -> Fault:
        """From "500" or {"kind": "timeout", "seconds": 2}; raises ValueError."""
        if isinstance(raw, str | int):
            return cls(FaultKind(str(raw)))
        if not isinstance(raw, dict) or "kind" not in raw:
            raise ValueError(f"not a fault: {raw!r}")
        retry_after = raw.get("retry_after")
        return cls(
            FaultKind(str(raw["kind"])),
            seconds=float(raw.get("seconds", 5.0)),
            retry_after=None if retry_after is None else float(retry_after),
        )

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "seconds": self.seconds, "retry_after": self.retry_after}


class FaultPlan:
    """A queue of faults for the next sends, then a steady random fault rate (default none)."""

    def __init__(self, seed: int | None = None) -> None:
        self._queue: deque[Fault] = deque()
        self._rate = 0.0
        self._random: tuple[Fault, ...] = ()
        self._rng = random.Random(seed)

    def push(self, *faults: Fault) -> None:
        self._queue.extend(faults)

    def set_random(self, rate: float, faults: tuple[Fault, ...]) -> None:
        if not 0.0 <= rate <= 1.0 or (rate and not faults):
            raise ValueError("rate must be within 0..1 and need at least one fault kind")
        self._rate, self._random = rate, faults

    def clear(self) -> None:
        self._queue.clear()
        self._rate, self._random = 0.0, ()

    def next(self) -> Fault | None:
        """The fault for this send, if any: queued ones first, then the random mode."""
        if self._queue:
            return self._queue.popleft()
        if self._rate and self._rng.random() < self._rate:
            return self._rng.choice(self._random)
        return None

    def configure(self, payload: Any) -> None:
        """Apply a control request (ValueError if malformed). Accepted shapes:

        - a list such as ``["500", {"kind": "timeout", "seconds": 2}]``: replaces the queue;
        - ``{"faults": [{"kind": "429", "count": 3}, ...]}``: replaces the queue;
        - ``{"probabilistic": {"rate": 0.1, "kinds": ["500", "timeout"], "seconds": 2}}``: a steady
          random fault rate once the queue is empty; ``{"probabilistic": null}`` stops it.

        Both keys may be given together.
        """
        if isinstance(payload, list):
            payload = {"faults": payload}
        if not isinstance(payload, dict):
            raise ValueError("expected a list of faults or an object")
        if "faults" in payload:
            queue: list[Fault] = []
            for raw in payload["faults"] or []:
                count = int(raw.get("count", 1)) if isinstance(raw, dict) else 1
                queue.extend([Fault.parse(raw)] * count)
            self._queue = deque(queue)
        if "probabilistic" in payload:
            mode = payload["probabilistic"]
            if mode is None:
                self.set_random(0.0, ())
                return
            extra = {k: v for k, v in mode.items() if k in ("seconds", "retry_after")}
            kinds = tuple(
                Fault.parse({"kind": k, **extra} if isinstance(k, str | int) else k) for k in mode.get("kinds", [])
            )
            self.set_random(float(mode.get("rate", 0.0)), kinds)

    def snapshot(self) -> dict[str, Any]:
        return {
            "queued": [f.to_json() for f in self._queue],
            "probabilistic": (
                {"rate": self._rate, "kinds": [f.to_json() for f in self._random]} if self._rate else None
            ),
        }


class RollingLimit:
    """At most `per_minute` acquisitions in any rolling 60 s (stricter than Notify's token bucket)."""

    def __init__(self, per_minute: int, window: float = 60.0) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._window = window
        self._times: deque[float] = deque()

    def try_acquire(self, now: float) -> bool:
        times = self._times
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        return True


class RequestStats:
    """Counts per outcome, and send requests received/accepted per wall-clock second."""

    def __init__(self, keep_seconds: int = 3600) -> None:
        self.totals: dict[str, int] = {}
        self._seconds: deque[list[int]] = deque(maxlen=keep_seconds)  # [second, received, accepted]

    def _bucket(self, now: float) -> list[int]:
        second = int(now)
        if not self._seconds or self._seconds[-1][0] != second:
            self._seconds.append([second, 0, 0])
        return self._seconds[-1]

    def received(self, now: float) -> None:
        self._bucket(now)[1] += 1

    def accepted(self, now: float) -> None:
        self._bucket(now)[2] += 1

    def outcome(self, name: str) -> None:
        self.totals[name] = self.totals.get(name, 0) + 1

    def max_accepted_in_window(self, seconds: int = 60) -> int:
        """The most sends accepted in any `seconds`-long run of whole seconds."""
        best, window, total = 0, deque[tuple[int, int]](), 0
        for second, _, accepted in self._seconds:
            window.append((second, accepted))
            total += accepted
            while window[0][0] <= second - seconds:
                total -= window.popleft()[1]
            best = max(best, total)
        return best

    def snapshot(self) -> dict[str, Any]:
        per_second = [{"second": s, "received": r, "accepted": a} for s, r, a in self._seconds]
        return {
            "totals": dict(self.totals),
            "per_second": per_second,
            "max_received_per_second": max((r for _, r, _ in self._seconds), default=0),
            "max_accepted_per_second": max((a for _, _, a in self._seconds), default=0),
            "max_accepted_per_60s": self.max_accepted_in_window(60),
        }
