"""Serves tessera.js, the browser SDK of seed 002, from the file kept beside this module.

The file is read once, at import; its ETag is its content's hash, so a browser revalidates cheaply
after the short max-age, and a new Tessera version's script reaches pages within minutes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

SDK_PATH = "/js/v1/tessera.js"
SOURCE = Path(__file__).parent / "static" / "tessera.js"
CONTENT = SOURCE.read_bytes()
ETAG = '"' + hashlib.sha256(CONTENT).hexdigest()[:32] + '"'
MEDIA_TYPE = "text/javascript; charset=utf-8"
CACHE_CONTROL = "public, max-age=300"

router = APIRouter(tags=["browser"])


def version() -> str:
    """The SDK's version, from its first line's comment (`/*! tessera.js 1.0.0 ... */`)."""
    return CONTENT.split(b"\n", 1)[0].decode().split()[2]


@router.get(
    SDK_PATH,
    summary="tessera.js, the browser SDK: card fields, tokenization with the publishable key, 3-D Secure",
    response_class=Response,
    responses={
        200: {"content": {"text/javascript": {"schema": {"type": "string"}}}, "description": "the script"},
        304: {"description": "the browser's copy (If-None-Match) is current"},
    },
)
async def tessera_js(
    if_none_match: Annotated[str | None, Header(description="an ETag this server gave")] = None,
) -> Response:
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": ETAG, "X-Content-Type-Options": "nosniff"}
    if if_none_match is not None and ETAG in [tag.strip() for tag in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(CONTENT, media_type=MEDIA_TYPE, headers=headers)
