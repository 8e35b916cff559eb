"""Regular expressions for OpenAPI documents that every engine reads as the server does."""

from __future__ import annotations

# White space as Python's `str.strip` and `re` read it (the server strips text fields), spelt out so
# that every regular expression engine reads the document's patterns alike (`\s` differs between them).
_WHITE_SPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def py_ws(pattern: str) -> str:
    """`pattern` with `\\s` (and `\\S` outside a character class) as Python's white space."""
    out: list[str] = []
    in_class, i = False, 0
    while i < len(pattern):
        piece = pattern[i : i + 2] if pattern[i] == "\\" else pattern[i]
        if piece == "\\s":
            piece = _WHITE_SPACE if in_class else f"[{_WHITE_SPACE}]"
        elif piece == "\\S" and not in_class:
            piece = f"[^{_WHITE_SPACE}]"
        elif piece in "[]":
            in_class = piece == "["
        out.append(piece)
        i += 2 if pattern[i] == "\\" else 1
    return "".join(out)
