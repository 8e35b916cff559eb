"""Refusing the NUL character (U+0000) wherever a request can carry it: path, query and body.

No field of any dialect accepts it, SQLite would store it and PostgreSQL's text columns cannot, so it
is bad input, refused before the request reaches a handler, naming the field it was in, in the
dialect's own error format. Bodies are scanned as they stream (a byte search per chunk); only a body
that holds one is read whole and parsed, to name the field.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Scope

from tessera.core.errors import ValidationError

# How a NUL looks in a JSON body (escaped or, invalidly, raw) and in a form body.
_MARKERS = (b"\\u0000", b"\x00", b"%00")
_OVERLAP = max(len(m) for m in _MARKERS) - 1


class NulCharacterError(ValidationError):
    """A NUL character in the request, in `field` (a dotted path, a query or path parameter's name)."""

    def __init__(self, field: str | None) -> None:
        where = field or "the request"
        super().__init__(f"{where} contains a NUL character (U+0000), which no field accepts", field=field)


def in_path_or_query(scope: Scope) -> NulCharacterError | None:
    """The error for a NUL in the path (named by its route's parameter) or the query string."""
    if "\x00" in scope["path"]:
        return NulCharacterError(_path_parameter(scope))
    raw = scope.get("query_string", b"")
    if b"%00" in raw or b"\x00" in raw:
        for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return NulCharacterError(name.replace("\x00", "") or None)
        return NulCharacterError(None)
    return None


def _path_parameter(scope: Scope) -> str | None:
    """The name of the path parameter that holds the NUL, from the documented path templates."""
    app = scope.get("app")
    openapi = getattr(app, "openapi", None)
    if openapi is None:
        return None
    for pattern in _templates(id(app), tuple(openapi().get("paths", {}))):
        found = pattern.match(scope["path"])
        if found:
            for name, value in found.groupdict().items():
                if "\x00" in value:
                    return name
    return None


@functools.lru_cache(maxsize=4)
def _templates(_app: int, paths: tuple[str, ...]) -> list[re.Pattern[str]]:
    return [
        re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]*)", re.escape(path)) + "$")
        for path in paths
        if "{" in path
    ]


class BodyScanner:
    """Watches a body's chunks for a NUL; keeps them so the field can be named once one is seen."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._tail = b""
        self.found = False

    def feed(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        window = self._tail + chunk
        if any(marker in window for marker in _MARKERS):
            self.found = True
        self._tail = window[-_OVERLAP:]

    def check(self) -> NulCharacterError | None:
        """Once the body is whole: the error if it really holds a NUL (a JSON string may say `%00` or
        an escaped backslash before `u0000`, which are not one)."""
        if not self.found:
            return None
        body = b"".join(self._chunks)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = _NOT_JSON
        if parsed is not _NOT_JSON:
            field = next(_nul_paths(parsed, ""), None)
            return NulCharacterError(field) if field is not None else None
        if b"\x00" in body:
            return NulCharacterError(None)
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return NulCharacterError(name.replace("\x00", "") or None)
        return None


_NOT_JSON = object()


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if "\x00" in value:
            yield path or "body"
    elif isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                yield here.replace("\x00", "")
            yield from _nul_paths(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}[{index}]" if path else f"[{index}]")
