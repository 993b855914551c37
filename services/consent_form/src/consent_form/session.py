"""The browser's side of a draft: a random key in a Secure, HttpOnly, SameSite cookie that expires."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response


class SessionCookies:
    def __init__(self, *, secure: bool, max_age: int) -> None:
        self.secure = secure
        self.max_age = max_age
        # __Host- cookies are refused by browsers unless Secure, for path / and without a Domain: the
        # cookie cannot be set by a sibling subdomain. Plain names only for http:// development.
        prefix = "__Host-" if secure else ""
        self.session_name = f"{prefix}consent_form"
        self.start_name = f"{prefix}consent_form_start"

    def _set(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/", secure=self.secure, httponly=True, samesite="lax")

    def set_session(self, response: Response, key: str) -> None:
        self._set(response, self.session_name, key, self.max_age)
        response.delete_cookie(self.start_name, path="/", secure=self.secure, httponly=True, samesite="lax")

    def session_key(self, request: Request) -> str | None:
        key = request.cookies.get(self.session_name)
        return key if key and len(key) <= 100 else None

    def set_start(self, response: Response, nonce: str) -> None:
        """The start page's form is checked against this cookie (double submit): no draft exists yet."""
        self._set(response, self.start_name, nonce, self.max_age)

    def start_matches(self, request: Request, submitted: str) -> bool:
        expected = request.cookies.get(self.start_name, "")
        return bool(expected) and secrets.compare_digest(expected.encode(), submitted.encode())
