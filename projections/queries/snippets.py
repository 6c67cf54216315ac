"""A search hit's snippet: the text with its matches marked, and read back as parts.

The matches are marked with two characters of Unicode's private use area (taken out of the text
first), never with markup, so that nothing in a quote can pass for a mark.
"""

from __future__ import annotations

START, STOP = "\ue000", "\ue001"


def snippet_parts(marked: str) -> list[tuple[str, bool]]:
    """A marked snippet as its parts, each plain text and whether it is a match."""
    parts: list[tuple[str, bool]] = []
    head, *rest = marked.split(START)
    if head:
        parts.append((head, False))
    for piece in rest:
        match, _, after = piece.partition(STOP)
        if match:
            parts.append((match, True))
        if after:
            parts.append((after, False))
    return parts
