"""The consent service's parts for its handlers: the unit of work, the clock and the consent-form links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from consent import links
from consent.uow import ConsentUnitOfWork
from msgkit.wiring import Wiring


@dataclass(frozen=True, slots=True)
class LinkMaker:
    """Signs and reads consent-form links, and spells the URL a parent follows."""

    secrets: Sequence[str]
    form_url: str

    def token(self, link: links.Link) -> str:
        return links.sign(link, self.secrets)

    def url(self, link: links.Link) -> str:
        return f"{self.form_url.rstrip('/')}/{self.token(link)}"

    def read(self, token: str) -> links.Link | None:
        return links.verify(token, self.secrets)


@dataclass(frozen=True, slots=True)
class ConsentWiring(Wiring[ConsentUnitOfWork]):
    links: LinkMaker
