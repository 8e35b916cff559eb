"""tessera.js as Tessera serves it (issue 14): at /js/v1/tessera.js, as JavaScript, with its version in
its first comment, cached briefly and revalidated by ETag, with no CORS header (a script tag needs none)."""

from __future__ import annotations

from httpx import AsyncClient

from tessera.browser import sdk


async def test_the_sdk_is_served_as_versioned_javascript_with_caching_headers(client: AsyncClient) -> None:
    r = await client.get("/js/v1/tessera.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.text.startswith(f"/*! tessera.js {sdk.version()} ")
    assert "public" in r.headers["cache-control"] and "max-age=" in r.headers["cache-control"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in r.headers


async def test_a_browser_holding_the_current_copy_gets_a_304(client: AsyncClient) -> None:
    etag = (await client.get("/js/v1/tessera.js")).headers["etag"]
    again = await client.get("/js/v1/tessera.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    stale = await client.get("/js/v1/tessera.js", headers={"If-None-Match": '"old"'})
    assert stale.status_code == 200 and stale.content == sdk.CONTENT
