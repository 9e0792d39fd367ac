"""Display columns and line breaking: how wide text is in a terminal, and where a line may end.

Plain text is laid out for a terminal or a monospace font, where a Chinese, Japanese or Korean
character takes two columns and a combining mark none (Unicode Standard Annex #11, through
``unicodedata``), and where Chinese and Japanese, written without spaces, break between characters.
The text body, the support block's alignment and the command line all measure and break here.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

#: No assigned character before this one is East Asian wide or fullwidth: text below it, Latin,
#: Cyrillic, Arabic or Hebrew, never needs the wide-character rules.
_FIRST_WIDE: Final = "\u1100"


def _char_columns(char: str) -> int:
    # Combining marks (Arabic vowel signs, accents written apart) and format characters (joiners,
    # direction marks) take no column of their own; East Asian wide and fullwidth characters take
    # two (Unicode Standard Annex #11); everything else, Arabic letters included, takes one.
    category = unicodedata.category(char)
    if category in ("Mn", "Me", "Cf"):
        return 0
    return 2 if category != "Cn" and _is_wide(char) else 1


_NOT_ASCII: Final = re.compile("[^\x00-\x7f]")


def columns(text: str) -> int:
    """How many columns ``text`` takes in a terminal or a monospace font."""
    if text.isascii():
        return len(text)
    # Only the characters past ASCII can take other than one column; a path or an ID is mostly
    # ASCII, so this looks up a few characters rather than all.
    others = _NOT_ASCII.findall(text)
    return len(text) - len(others) + sum(_char_columns(char) for char in others)


def _is_wide(char: str) -> bool:
    return char >= _FIRST_WIDE and unicodedata.east_asian_width(char) in ("W", "F")


# Characters a line may not start with, and may not end with, in Chinese and Japanese typesetting
# (the core of JIS X 4051's rules): closing brackets and punctuation stay with what precedes them,
# opening brackets with what follows.
# The characters are the point here, full-width look-alikes included.
_NO_LINE_START: Final = frozenset(
    "、。，．・：；？！ー―‐〜…‥々ゝゞヽヾぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"  # noqa: RUF001
    "）〕］｝〉》」』】〙〗〟’”｠»,.:;!?)]}%"  # noqa: RUF001
)
_NO_LINE_END: Final = frozenset("（〔［｛〈《「『【〘〖〝‘“｟«([{")  # noqa: RUF001
# What textwrap treats as whitespace: the ASCII spaces. Others (such as U+3000) belong to a word.
_SPACES: Final = re.compile(r"([\t\n\x0b\x0c\r ]+)")
_TO_SPACE: Final = str.maketrans(dict.fromkeys("\t\n\x0b\x0c\r", " "))


def _is_hangul(char: str) -> bool:
    return (
        "\uac00" <= char <= "\ud7a3" or "\u1100" <= char <= "\u11ff" or "\u3130" <= char <= "\u318f"
    )


def _breakable(word: str) -> list[str]:
    """``word`` cut where a line may break inside it: next to a Chinese or Japanese character.

    Korean separates its words with spaces and is read more easily broken there, as Korean
    typesetting does (CSS ``word-break: keep-all``), so Hangul is not cut between syllables.
    """
    pieces = [word[0]]
    for before, char in itertools.pairwise(word):
        if (
            (_is_wide(before) or _is_wide(char))
            and not (_is_hangul(before) or _is_hangul(char))
            and char not in _NO_LINE_START
            and before not in _NO_LINE_END
        ):
            pieces.append(char)
        else:
            pieces[-1] += char
    return pieces


def _chunks(text: str) -> list[str]:
    """Words and the runs of spaces between them, CJK words cut into their characters."""
    chunks = [chunk for chunk in _SPACES.split(text) if chunk]
    if text.isascii() or max(text) < _FIRST_WIDE:
        return chunks
    return [
        piece
        for chunk in chunks
        for piece in (_breakable(chunk) if max(chunk) >= _FIRST_WIDE else (chunk,))
    ]


def fitting(chunk: str, room: int) -> int:
    """How many characters of ``chunk`` fit in ``room`` columns."""
    if chunk.isascii():
        return min(room, len(chunk))
    used = 0
    for index, char in enumerate(chunk):
        used += _char_columns(char)
        if used > room:
            return index
    return len(chunk)


@dataclass(frozen=True)
class Wrapper:
    """Fills text into lines of at most ``width`` display columns.

    For text without wide characters this is exactly :func:`textwrap.fill` (tabs expanded, spaces
    dropped at line ends, long words cut unless ``break_long_words`` is false, never at hyphens):
    the tests hold it to that. It differs in counting columns, not characters, and in breaking
    between the characters of Chinese, Japanese and Korean text, which has no spaces to break at.
    """

    width: int
    initial_indent: str = ""
    subsequent_indent: str = ""
    break_long_words: bool = True

    def wrap(self, text: str) -> list[str]:
        chunks = _chunks(text.expandtabs().translate(_TO_SPACE))
        chunks.reverse()
        sizes = [columns(chunk) for chunk in chunks]
        lines: list[str] = []
        while chunks:
            indent = self.subsequent_indent if lines else self.initial_indent
            room = self.width - columns(indent)
            # Spaces that would start a line go, except at the very start of the text.
            if lines and not chunks[-1].strip():
                chunks.pop()
                sizes.pop()
                if not chunks:
                    break
            line: list[str] = []
            used = 0
            while chunks and used + sizes[-1] <= room:
                used += sizes.pop()
                line.append(chunks.pop())
            if chunks and sizes[-1] > room:
                self._cut_long_word(chunks, sizes, line, room, used)
            if line and not line[-1].strip():
                line.pop()
            if line:
                lines.append(indent + "".join(line))
        return lines

    def _cut_long_word(
        self, chunks: list[str], sizes: list[int], line: list[str], room: int, used: int
    ) -> None:
        """A word wider than a whole line: fill the line with its start, or give it a line of its
        own when it must stay whole (a URL). ``sizes`` are the chunks' columns."""
        chunk = chunks[-1]
        if room < 1 and not chunk.strip():
            # An indent that leaves no room: spaces could only be cut one by one and dropped,
            # forever (textwrap never returns here). They would be dropped anyway.
            chunks.pop()
            sizes.pop()
        elif self.break_long_words:
            # At least one character per line, however narrow, so the loop always ends.
            end = fitting(chunk, room - used if room >= 1 else 1) or (0 if line else 1)
            line.append(chunk[:end])
            chunks[-1] = chunk[end:]
            sizes[-1] = columns(chunks[-1])
        elif not line:
            line.append(chunks.pop())
            sizes.pop()

    def fill(self, text: str) -> str:
        return "\n".join(self.wrap(text))


def fill(text: str, width: int, indent: str = "", *, break_long_words: bool = True) -> str:
    """``text`` wrapped at ``width`` display columns, every line starting with ``indent``."""
    return Wrapper(width, indent, indent, break_long_words).fill(text)
