"""One escaping rule for text that comes from outside procnet (other processes' names,
command lines and socket paths; file names and tokens of a bundle): what the command line
prints in every column and message, and what every exception procnet raises quotes.

Nothing here does I/O; every layer may use it.
"""

from __future__ import annotations

import re
from typing import List, Union

# # One rule for every column and every message (error and warning) the command line prints:
# a character is kept when the terminal shows it as itself, and written as ``\xNN``, one
# escape per byte of its UTF-8 encoding, when it is not:
#
# * what ``str.isprintable()`` refuses: the Unicode categories Cc (C0 and C1 controls,
#   DEL), Cf (format: U+00AD soft hyphen, U+200B..U+200F zero-width and direction marks,
#   U+202A..U+202E bidi embeddings and overrides, U+2060..U+2064, U+2066..U+2069 isolates,
#   U+FEFF, the tag characters...), Co (private use), Cs (surrogates), Cn (unassigned in
#   the running Python's Unicode database), Zl, Zp, and every Zs but the ASCII space
#   (U+00A0, U+2000..U+200A, U+3000...);
# * the characters that are printable by category but show nothing, so that they can pad
#   a name or pass for a space (:data:`INVISIBLE`): Unicode's default-ignorable code points
#   outside those categories (U+034F combining grapheme joiner, the Hangul fillers U+115F,
#   U+1160, U+3164 and U+FFA0, U+17B4/U+17B5, the variation selectors U+180B..U+180D,
#   U+180F, U+FE00..U+FE0F and U+E0100..U+E01EF) and U+2800, the blank Braille pattern;
# * every byte that was not valid UTF-8, which :func:`os.fsdecode` keeps as a lone
#   surrogate (U+DC80..U+DCFF): ``\xNN`` of that byte.
#
# ASCII text, the common case, is checked by two C-level calls (``isascii`` and
# ``isprintable``); other text by one more regex search.

#: Printable by category, invisible on a terminal: escaped as the non-printable are.
INVISIBLE = (
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164"
    "\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef"
)
_INVISIBLE = re.compile("[%s]" % INVISIBLE)


def _utf8(ch: str) -> bytes:
    """The bytes ``ch`` stands for: its UTF-8, or the byte a surrogate escape keeps."""
    try:
        return ch.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no decoder made (U+D800..U+DC7F)
        return ch.encode("utf-8", "surrogatepass")


def _shown(ch: str) -> bool:
    return ch.isprintable() and (ch < "\x80" or _INVISIBLE.match(ch) is None)


def _escaped(text: str, also: str = "") -> str:
    out: List[str] = []
    for ch in text:
        if _shown(ch) and ch not in also:
            out.append(ch)
        else:
            out.extend("\\x%02x" % b for b in _utf8(ch))
    return "".join(out)


def escape_text(text: str) -> str:
    """Text from another process (or a bundle, or an error message quoting one), safe to
    print on a terminal: see the rule above. Spaces, backslashes and printable non-ASCII
    characters are kept.

    Every message the command line writes to stderr goes through this function (the
    message of an exception included), and every column of ``procnet ss``.

    >>> escape_text("a\\nb"), escape_text("ok \\u00e9"), escape_text("bad\\udcff")
    ('a\\\\x0ab', 'ok \u00e9', 'bad\\\\xff')
    >>> escape_text("\\x1b]0;pwned\\x07"), escape_text("x\\u3164y")
    ('\\\\x1b]0;pwned\\\\x07', 'x\\\\xe3\\\\x85\\\\xa4y')
    """
    if text.isprintable() and (text.isascii() or _INVISIBLE.search(text) is None):
        return text
    return _escaped(text)


def escape_quoted(text: str) -> str:
    """:func:`escape_text`, and ``"`` and ``\\`` as ``\\x22`` and ``\\x5c``: for a name
    printed between double quotes (ss's ``users:(("name",pid=...))``), which then cannot
    close its quotes and write ``pid=1`` after them, nor pass for an escape.

    >>> escape_quoted('x",pid=1,fd=3),("y')
    'x\\\\x22,pid=1,fd=3),(\\\\x22y'
    """
    if '"' in text or "\\" in text:
        return _escaped(text, '"\\')
    return escape_text(text)



#: At most this many characters of a path, a line or a token from outside go into a message.
QUOTE_LIMIT = 200


def quoted(value: Union[str, bytes], limit: int = QUOTE_LIMIT) -> str:
    """``value`` (a path, a line, a token from another machine) made safe to put in a
    message: at most ``limit`` characters, then a marker saying how many were cut, escaped
    by :func:`escape_text`. So a file name cannot drive the terminal, and a 256 MiB token
    cannot bury the message.

    >>> quoted("/tmp/b\\x1b[2J\\udcff")
    '/tmp/b\\\\x1b[2J\\\\xff'
    >>> quoted("x" * 300, 4)
    'xxxx[... 296 more characters]'
    """
    text = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
    more = len(text) - limit
    if more > 0:
        text = text[:limit]
    return escape_text(text) + ("[... %d more characters]" % more if more > 0 else "")


__all__ = ["INVISIBLE", "QUOTE_LIMIT", "escape_quoted", "escape_text", "quoted"]
