"""Chinese-aware tokens for full-text search.

Indexed text: Chinese runs are cut with jieba's search mode (``订单号`` → 订单 / 单号 / 订单号) and
also into overlapping character pairs (``顺丰单号`` → 顺丰 / 丰单 / 单号), because jieba sometimes cuts
a phrase differently from how a searcher types it (it reads 顺丰单号 as 顺丰单 + 号); runs of Latin
letters and digits — order ids, waybill and ticket numbers, e-mail addresses — stay whole,
lower-cased. Punctuation and spaces are dropped.

A query's Chinese runs become their character pairs (a single character stays itself), so a
ticket matches when it holds the query's phrases, however jieba cut them. The jieba dictionary
loads once, on first use (about a second); nothing is downloaded.
"""

from __future__ import annotations

import re
import unicodedata

from kefu.adapters.segment import search_words

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[0-9a-z]+(?:[-_.@][0-9a-z]+)*")


def _pairs(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]


def _split(text: str) -> list[tuple[bool, str]]:
    """``(is_chinese, piece)`` in order: Chinese runs, and the Latin/digit words between them."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    out: list[tuple[bool, str]] = []
    position = 0
    for match in _CJK.finditer(text):
        out.extend((False, w) for w in _WORD.findall(text[position:match.start()]))
        out.append((True, match.group(0)))
        position = match.end()
    out.extend((False, w) for w in _WORD.findall(text[position:]))
    return out


def tokens(text: str) -> list[str]:
    """The tokens to index for ``text``: jieba words and character pairs of Chinese runs, whole
    Latin/digit words."""
    out: list[str] = []
    for chinese, piece in _split(text):
        if not chinese:
            out.append(piece)
            continue
        out.extend(t for t in search_words(piece) if t.strip())
        out.extend(_pairs(piece))
    return out


def query_tokens(text: str, limit: int = 16) -> list[str]:
    """The distinct tokens of a query, at most ``limit``; a ticket matches when it holds them all."""
    seen: dict[str, None] = {}
    for chinese, piece in _split(text):
        for token in (_pairs(piece) if chinese else [piece]):
            seen.setdefault(token, None)
    return list(seen)[:limit]
