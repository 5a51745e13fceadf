"""Text normalisation for the compliance check, keeping a map back to the original characters.

What people do to slip contact details past a filter, undone before any rule looks at the text:
full-width letters and digits (NFKC), upper case, zero-width characters, and digits written as
Chinese numerals (一三八 零零一二 …, 幺 for one, 壹贰叁 …). Every character of the normalised
text remembers the index of the source character it came from, so a violation can quote the
author's own words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: invisible characters used to split words (removed)
_INVISIBLE = frozenset("\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff")

#: Chinese numerals that stand for single digits when written in a run
CN_DIGITS: dict[str, str] = {
    "零": "0", "〇": "0", "○": "0", "一": "1", "幺": "1", "壹": "1", "二": "2", "两": "2", "贰": "2", "三": "3",
    "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6", "七": "7", "柒": "7",
    "八": "8", "捌": "8", "九": "9", "玖": "9",
}
_DIGIT_CLASS = "0-9" + "".join(CN_DIGITS)
#: a run of at least six digit characters, allowing short separators between them
_NUMERAL_RUN = re.compile(rf"[{_DIGIT_CLASS}](?:[\s\-–—._·]{{0,3}}[{_DIGIT_CLASS}]){{5,}}")
#: numerals needed in a run before it is read as digits (so 一两天 or 三四个 stay words)
_MIN_NUMERALS = 3


@dataclass(frozen=True, slots=True)
class View:
    """A rewritten text; ``origin[i]`` is the source index of ``text[i]``."""

    source: str
    text: str
    origin: tuple[int, ...]

    def quote(self, start: int, end: int) -> str:
        """The source text behind ``text[start:end]``."""
        if end <= start:
            return ""
        return self.source[self.origin[start]:self.origin[end - 1] + 1].strip()

    def squeeze(self, drop: frozenset[str]) -> View:
        """The same text without the characters in ``drop`` (origins follow)."""
        keep = [i for i, ch in enumerate(self.text) if ch not in drop]
        if len(keep) == len(self.text):
            return self
        origin = self.origin
        return View(self.source, "".join([self.text[i] for i in keep]), tuple([origin[i] for i in keep]))

    def origin_span(self, start: int, end: int) -> tuple[int, int]:
        """The source span behind ``text[start:end]`` (for comparing views)."""
        return self.origin[start], self.origin[end - 1] + 1


def normalise(source: str) -> View:
    """NFKC, lower case, no invisible characters, Chinese numeral runs as digits."""
    chars: list[str] = []
    origin: list[int] = []
    done = 0
    # runs of plain ASCII and common Chinese are their own NFKC form: only other characters
    # are folded one by one (a typical reply has a handful: ，：（）)
    for m in _NEEDS_FOLDING.finditer(source):
        i = m.start()
        if i > done:
            chars.append(source[done:i].lower())
            origin.extend(range(done, i))
        folded = _fold(source[i])       # "" for invisible characters, several for ㈠ → (一)
        chars.append(folded)
        origin.extend([i] * len(folded))
        done = i + 1
    if done < len(source):
        chars.append(source[done:].lower())
        origin.extend(range(done, len(source)))
    text = "".join(chars)
    if any(ch in CN_DIGITS for ch in text):
        text = _NUMERAL_RUN.sub(_numerals_to_digits, text)   # same length: origins still line up
    return View(source, text, tuple(origin))


#: characters that NFKC or lower-casing may change (everything but printable ASCII and the
#: common CJK ideographs, which map to themselves, ASCII letters lower-cased in bulk)
_NEEDS_FOLDING = re.compile(r"[^\x20-\x7e\n\u4e00-\u9fff]")


@lru_cache(maxsize=8192)
def _fold(ch: str) -> str:
    """One source character as the check sees it."""
    if ch in _INVISIBLE:
        return ""
    return unicodedata.normalize("NFKC", ch).lower()


def _numerals_to_digits(m: re.Match[str]) -> str:
    run = m.group(0)
    if sum(ch in CN_DIGITS for ch in run) < _MIN_NUMERALS:
        return run
    return "".join(CN_DIGITS.get(ch, ch) for ch in run)
