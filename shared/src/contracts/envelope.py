"""The envelope every message carries, and the base classes for events, commands and queries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


def utcnow() -> datetime:
    return datetime.now(UTC)


class Message(BaseModel):
    """Base of every message: identity, timing and tracing, then the message's own fields.

    Frozen so a message cannot change after it is built; `extra` stays at "ignore" so a consumer
    tolerates fields a newer producer adds (additive changes only within a schema version).
    """

    model_config = ConfigDict(frozen=True)

    schema_version: ClassVar[int] = 1

    message_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str = ""
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    version: int = 1

    def model_post_init(self, context: Any, /) -> None:
        # The type name travels with the body so dead letters and logs say what they are. A body that names
        # one keeps it, even an empty one: a consumer refuses a type that is not its queue's (msgkit.broker).
        if "type" not in self.model_fields_set:
            object.__setattr__(self, "type", type(self).__name__)
        object.__setattr__(self, "version", type(self).schema_version)

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def caused_by(self, cause: Message) -> dict[str, uuid.UUID]:
        """Tracing fields for a message caused by `cause` (pass as keyword arguments)."""
        return {"correlation_id": cause.correlation_id or cause.message_id, "causation_id": cause.message_id}


class Event(Message):
    """Something that happened in the producer's domain (past tense)."""


class Command(Message):
    """An instruction addressed to the one service that acts on it (imperative)."""


class Query(Message):
    """A request–reply read; the reply is a `Reply`."""


class ErrorDetail(BaseModel):
    """Why a command or query was refused: a stable code for programs and a sentence for people."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    details: list[dict[str, Any]] = Field(default_factory=list)


class Reply(BaseModel):
    """Answer to a request: `ok` with `data`, or not ok with an `error`."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    data: dict[str, Any] | None = None
    error: ErrorDetail | None = None

    @classmethod
    def success(cls, data: BaseModel | dict[str, Any] | None = None) -> Reply:
        body = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
        return cls(ok=True, data=body or {})

    @classmethod
    def failure(cls, code: str, message: str, details: list[dict[str, Any]] | None = None) -> Reply:
        return cls(ok=False, error=ErrorDetail(code=code, message=message, details=details or []))
