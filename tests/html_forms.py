"""Walking the pages of a 3-D Secure challenge as a browser would, over plain HTTP."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import httpx


def first_form(page: str) -> tuple[str, dict[str, str]]:
    """The first form of a page: its action (as a path) and its fields."""
    found = re.search(r'<form method="post" action="([^"]+)"', page)
    assert found, page
    action = html.unescape(found.group(1))
    fields = {html.unescape(n): html.unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    return urlsplit(action).path, fields


async def answer_challenge(http: httpx.AsyncClient, redirect_url: str, otp: str = "123456") -> httpx.Response:
    """What a shopper's browser does with a payment's `redirect_url`: open it, post its form to the
    sandbox ACS, answer the one-time password, post the CRes back to Tessera. Returns Tessera's answer
    (a 303 to the merchant's return URL)."""
    redirect = await http.get(urlsplit(redirect_url).path)
    path, fields = first_form(redirect.text)
    page = await http.post(path, data=fields)
    path, fields = first_form(page.text)
    reply = await http.post(path, data={**fields, "otp": otp, "action": "submit"})
    path, fields = first_form(reply.text)
    return await http.post(path, data=fields)
