"""Untrusted text made safe to show: one line, control, bidi and other format characters escaped visibly, long values cut."""

from __future__ import annotations

import unicodedata

MAX_VALUE = 300
TRUNCATED = "...[truncated]"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Unicode categories never shown raw: Cc (C0 controls, DEL, C1 controls), Cf (format: the bidi embeddings,
# overrides and isolates, LRM/RLM/ALM, zero-width characters, BOM, tag characters), Zl/Zp (U+2028/U+2029,
# which some readers break lines at), Cs (lone surrogates, which no encoder accepts).
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _escape(ch: str) -> str:
    named = _NAMED.get(ch)
    if named:
        return named
    cp = ord(ch)
    if cp <= 0xFF:
        return f"\\x{cp:02x}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def is_hidden(ch: str) -> bool:
    """Whether a character can break a line, reorder what follows it, or be invisible."""
    return unicodedata.category(ch) in _HIDDEN


def has_hidden(text: str) -> bool:
    return any(is_hidden(ch) for ch in text)


def one_line(value: object, limit: int | None = MAX_VALUE) -> str:
    """`value` as one line that shows what it holds: every hidden character (line breaks, other controls,
    bidi and zero-width characters) written as a visible escape (`\\n`, `\\x1b`, `\\u202e`), and the result
    cut to `limit` characters with a marker (None: never cut). Safe to call twice: backslashes are kept."""
    text = "" if value is None else str(value)
    pieces = [_escape(ch) if is_hidden(ch) else ch for ch in (text if limit is None else text[: limit + 1])]
    if limit is None or sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    budget, kept = max(limit - len(TRUNCATED), 1), []
    for piece in pieces:
        budget -= len(piece)
        if budget < 0:
            break
        kept.append(piece)
    return "".join(kept) + TRUNCATED


def lines(text: str) -> str:
    """Text whose line breaks are meant (an email body): each line made safe as `one_line`, never cut."""
    return "\n".join(one_line(line, None) for line in text.split("\n"))
