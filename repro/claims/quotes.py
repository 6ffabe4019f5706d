"""Is a claim's ``quote`` verbatim in its document? Whitespace and line breaks are ignored; "…" (U+2026)
separates verbatim parts, which must appear in the document in that order."""
from __future__ import annotations

ELLIPSIS = "…"


def _squash(text: str) -> str:
    return "".join(text.split())


def parts(quote: str) -> list[str]:
    """The verbatim parts of a quote (empty parts, e.g. a leading "…", dropped)."""
    return [p.strip() for p in quote.split(ELLIPSIS) if p.strip()]


def missing_part(quote: str, document: str) -> str | None:
    """None when every part of the quote appears in the document in order (whitespace ignored); else the
    first part that does not (searched after the previous part's end)."""
    text, at = _squash(document), 0
    pieces = parts(quote)
    if not pieces:
        return quote
    for piece in pieces:
        found = text.find(_squash(piece), at)
        if found < 0:
            return piece
        at = found + len(_squash(piece))
    return None
