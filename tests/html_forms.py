"""Reading the pages of a 3-D Secure challenge as a browser would: a page's first form."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit


def first_form(page: str) -> tuple[str, dict[str, str]]:
    """The first form of a page: its action (as a path) and its fields."""
    found = re.search(r'<form method="post" action="([^"]+)"', page)
    assert found, page
    action = html.unescape(found.group(1))
    fields = {html.unescape(n): html.unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    return urlsplit(action).path, fields
