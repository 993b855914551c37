"""The broker address list: the AMQP URLs of the nodes of one RabbitMQ cluster, in the order to try them.

`<SERVICE>_RABBITMQ_URL` (and `RABBITMQ_URL`, `CLINICS_RABBITMQ_URL`) holds one URL or several separated by
commas. After the first, an item may be a bare `host[:port]`, which takes everything else from the first:

    amqp://notify:secret@rabbit-0:5672/clinics,rabbit-1:5672,rabbit-2:5672

Full URLs are allowed too, but every address must name the same scheme, user, password, virtual host and
options, because they are the nodes of one cluster: only host and port may differ. A comma inside a password
must be written %2C, as URLs require anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, quote, unquote, urlsplit, urlunsplit

SCHEMES = {"amqp": 5672, "amqps": 5671}


class AddressError(ValueError):
    """The address list is malformed; the message names the item and what is wrong, never a password."""


@dataclass(frozen=True, slots=True)
class Addresses:
    """A validated address list: `urls` are full URLs that differ only in host and port."""

    urls: tuple[str, ...]

    @property
    def first(self) -> str:
        return self.urls[0]

    @property
    def endpoints(self) -> tuple[tuple[str, int], ...]:
        return tuple(_endpoint(urlsplit(url)) for url in self.urls)

    def __str__(self) -> str:
        return ",".join(self.urls)

    def redacted(self) -> str:
        """For logs and errors: every address, the password replaced."""
        return ",".join(_redact(url) for url in self.urls)

    def with_credentials(self, user: str, password: str) -> Addresses:
        """The same nodes, scheme, vhost and options with another user (a service's own, from the admin's)."""
        return Addresses(tuple(_with_credentials(url, user, password) for url in self.urls))

    @property
    def vhost(self) -> str:
        path = urlsplit(self.first).path
        return unquote(path[1:]) if len(path) > 1 else "/"

    @property
    def has_password(self) -> bool:
        return urlsplit(self.first).password is not None


def parse_addresses(value: str) -> Addresses:
    """Split and check an address list; raises AddressError with a message that is safe to log."""
    items = [item.strip() for item in value.split(",")]
    if not items or not items[0]:
        raise AddressError("the RabbitMQ address list is empty: give at least one amqp:// or amqps:// URL")
    if "://" not in items[0]:
        raise AddressError("address 1 of the RabbitMQ address list must be a full amqp:// or amqps:// URL")
    first = _full_url(items[0], position=1)
    urls = [items[0]]
    for position, item in enumerate(items[1:], start=2):
        if not item:
            raise AddressError(f"address {position} of the RabbitMQ address list is empty (a stray comma?)")
        if "://" in item:
            other = _full_url(item, position=position)
            _check_same_cluster(first, other, position=position)
            urls.append(item)
        else:
            urls.append(urlunsplit(first._replace(netloc=_netloc(first, _bare_host(item, position=position)))))
    seen: dict[tuple[str, int], int] = {}
    for position, url in enumerate(urls, start=1):
        endpoint = _endpoint(urlsplit(url))
        if endpoint in seen:
            raise AddressError(
                f"address {position} of the RabbitMQ address list repeats address {seen[endpoint]} "
                f"({endpoint[0]}:{endpoint[1]})"
            )
        seen[endpoint] = position
    return Addresses(tuple(urls))


def _full_url(item: str, *, position: int) -> SplitResult:
    parts = urlsplit(item)
    if parts.scheme not in SCHEMES:
        scheme = parts.scheme or "none"
        raise AddressError(
            f"address {position} of the RabbitMQ address list has scheme {scheme!r}: use amqp:// or amqps://"
        )
    if not parts.hostname:
        raise AddressError(f"address {position} of the RabbitMQ address list has no host")
    _port(parts, position=position)
    return parts


def _bare_host(item: str, *, position: int) -> SplitResult:
    parts = urlsplit(f"//{item}")
    if not parts.hostname or parts.path or parts.query or "@" in item:
        raise AddressError(
            f"address {position} of the RabbitMQ address list is neither a URL nor host[:port]: "
            "later addresses are amqp(s):// URLs or bare host[:port] items"
        )
    _port(parts, position=position)
    return parts


def _port(parts: SplitResult, *, position: int) -> int | None:
    try:
        return parts.port
    except ValueError:
        raise AddressError(f"address {position} of the RabbitMQ address list has an invalid port") from None


def _check_same_cluster(first: SplitResult, other: SplitResult, *, position: int) -> None:
    for what, mine, theirs in (
        ("scheme", first.scheme, other.scheme),
        ("user", first.username, other.username),
        ("password", first.password, other.password),
        ("virtual host", first.path or "/", other.path or "/"),
        ("options", first.query, other.query),
    ):
        if mine != theirs:
            raise AddressError(
                f"address {position} of the RabbitMQ address list has another {what} than address 1: "
                "the addresses are nodes of one cluster and may differ only in host and port"
            )


def _endpoint(parts: SplitResult) -> tuple[str, int]:
    return (parts.hostname or "", parts.port or SCHEMES.get(parts.scheme, 5672))


def _netloc(credentials_from: SplitResult, host_from: SplitResult) -> str:
    userinfo = credentials_from.netloc.rpartition("@")[0]
    host = host_from.netloc.rpartition("@")[2]
    return f"{userinfo}@{host}" if userinfo else host


def _with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"))


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{userinfo.partition(':')[0]}:***@{host}"))
