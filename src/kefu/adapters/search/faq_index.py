"""The FAQ knowledge base's retrieval index: BM25 (bm25s) over jieba tokens, kept in memory.

Each article is one document of its Chinese and English text together, so a question in either
language finds it. Words are :func:`kefu.adapters.search.tokens.tokens` (jieba's search mode plus
character pairs for Chinese, whole lower-cased Latin words), minus stop words that name no topic
(的、吗、怎么、多少钱, "how", "the" …), with English words lightly stemmed (``invoices`` and
``invoice`` meet). The title counts :data:`TITLE_WEIGHT` times and the keywords
:data:`KEYWORD_WEIGHT` times as much as the body: BM25 reads a repeated word as a more frequent one.

A query is tokenised the same way, each token once (a Latin word :data:`LATIN_QUERY_WEIGHT`
times). bm25s's Lucene scoring bounds each query token's share of a score by its IDF, so a score
roughly counts the distinctive words an article shares with the question. A hit must score at
least :data:`MIN_SCORE_IN_RARE_WORDS` times the IDF of a word that only one article has (3.0 with
~40 articles; the unit follows the corpus size, as every BM25 score does), and a query with no
indexed token finds nothing: the assistant must not cite an article that merely shares one common
word with the question. On the default articles (data/faq/articles.toml) and the bot evaluation
set this answers 182 of 208 questions on FAQ topics and 3 of 48 greetings, product and off-topic
messages; a single common word ("发票" alone) stays below it — the assistant cites by intent for
those (:func:`kefu.services.faq.find_for_intent`).

Building takes about 1.5 ms per article; a search is a jieba pass over the query (cached for
repeated questions) and a sum over bm25s's sparse score matrix: about 0.2 ms for ~40 articles,
0.05–0.1 ms when the question was seen before.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import lru_cache

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from kefu.adapters.search.tokens import tokens

#: how many times a title counts, against once for the body
TITLE_WEIGHT = 3
#: how many times each keyword counts
KEYWORD_WEIGHT = 2
#: the lowest score a hit may have, in units of what one word found in a single article can
#: score (its IDF): more than one rare word, or several commoner ones (see the module docstring)
MIN_SCORE_IN_RARE_WORDS = 0.92
#: how many times a word of Latin letters in a query counts: a Chinese word yields about three
#: tokens (the jieba word, its sub-words, character pairs) and a Latin word one, so without this an
#: English question would score far below the same question in Chinese and one threshold would
#: not serve both (numbers count once)
LATIN_QUERY_WEIGHT = 2
#: characters of a query that are read (longer text adds cost, not precision)
MAX_QUERY_CHARS = 300



def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: function words and question words: in nearly every question, about no topic in particular
STOPWORDS_ZH = _words("""
的 了 吗 呢 吧 啊 呀 哦 嘛 么 是 在 有 和 与 或 就 都 也 还 又 要 想 会 能 可 可以 能否 能不能 可不可以
我 你 您 他 她 它 我们 你们 他们 咱 这 那 这个 那个 这些 那些 哪 哪个 哪里 哪儿 什么 怎么 怎么样 怎样
如何 为什么 为啥 多少 几 一下 一个 请问 请 麻烦 谢谢 亲 好 吗吗 没 不 没有 不是 给 让 被 把 对 从 到 用
有人 在吗 在线 时候 什么时候 多少钱 怎么办 一般 已经 现在 但是 因为 所以 如果 的话 然后 知道 觉得
一直 明明 还是 那么 这么 而且 或者
""")
#: English question and function words beyond bm25s's list
STOPWORDS_EXTRA_EN = _words("""
i me my mine you your yours we our us he she him her his its am been being do does did done have has had
can could would should shall may might must what when where which who whom whose why how hello hi hey
please thanks thank want wanted need some any there here just also so very too up out about
""")
#: the character pairs inside longer stop phrases (多少钱 → 少钱, 什么时候 → 么时) are no topic either
_STOP_PAIRS = frozenset(w[i:i + 2] for w in STOPWORDS_ZH if len(w) > 2 for i in range(len(w) - 1))
_STOPWORDS = STOPWORDS_ZH | _STOP_PAIRS | frozenset(STOPWORDS_EN) | STOPWORDS_EXTRA_EN


def _fold(word: str) -> str:
    """A light English stemmer for Latin words, the same on both sides of a match: plurals, ``-ed``
    and ``-ing`` and a final ``e`` go (``invoices``/``invoice`` → ``invoic``, ``dropped`` →
    ``drop``, ``charged``/``charges`` → ``charg``); words of three letters or fewer stay."""
    if len(word) < 4 or not word.isascii() or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "ches", "shes", "xes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[:-len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            elif word.endswith("i"):
                word = word[:-1] + "y"
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def faq_tokens(text: str) -> list[str]:
    """The index's tokens for ``text``: :func:`tokens` without stop words, English words stemmed."""
    return [_fold(t) for t in tokens(text) if t not in _STOPWORDS]


@lru_cache(maxsize=4096)
def _query_tokens(query: str) -> tuple[str, ...]:
    # the same questions come again and again ("发票", "转人工"): jieba is most of a search's cost
    return tuple(dict.fromkeys(faq_tokens(query)))


@dataclass(frozen=True, slots=True)
class FaqDocument:
    """What the index reads of one article; ``key`` names it in results (the slug). An
    unpublished article is left out of the index: it is never found."""

    key: str
    title_zh: str
    body_zh: str
    title_en: str = ""
    body_en: str = ""
    keywords: tuple[str, ...] = ()
    published: bool = True


def document_tokens(doc: FaqDocument) -> list[str]:
    """The weighted token list of one article: title and keywords repeated, then the body."""
    title = faq_tokens(f"{doc.title_zh} {doc.title_en}")
    keywords = faq_tokens(" ".join(doc.keywords))
    body = faq_tokens(f"{doc.body_zh} {doc.body_en}")
    return title * TITLE_WEIGHT + keywords * KEYWORD_WEIGHT + body


class FaqIndex:
    """An immutable BM25 index over the published articles of a list; build a new one when they
    change."""

    def __init__(self, documents: Sequence[FaqDocument], *, min_score: float | None = None,
                 k1: float = 1.2, b: float = 0.75) -> None:
        documents = [d for d in documents if d.published]
        #: the IDF of a word found in one article only (Lucene's formula, as bm25s scores)
        self.rare_word_idf = math.log1p((len(documents) - 0.5) / 1.5) if documents else 0.0
        #: the lowest score :meth:`search` returns unless told otherwise
        self.min_score = MIN_SCORE_IN_RARE_WORDS * self.rare_word_idf if min_score is None else min_score
        self._keys: tuple[str, ...] = tuple(d.key for d in documents)
        self._position = {key: i for i, key in enumerate(self._keys)}
        self._bm25: bm25s.BM25 | None = None
        self._vocab: dict[str, int] = {}
        corpus = [document_tokens(d) for d in documents]
        if any(corpus):
            bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
            # an article without a single token still needs a row: the empty token stands in
            bm25.index([words or [""] for words in corpus], show_progress=False)
            self._bm25 = bm25
            self._vocab = {str(t): i for t, i in bm25.vocab_dict.items() if t != ""}

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def keys(self) -> tuple[str, ...]:
        return self._keys

    def query_ids(self, query: str) -> list[int]:
        """The vocabulary ids of the query's tokens: each token once, a word of Latin letters
        :data:`LATIN_QUERY_WEIGHT` times (BM25 adds a repeated id again)."""
        ids: list[int] = []
        for token in _query_tokens(query[:MAX_QUERY_CHARS]):
            found = self._vocab.get(token)
            if found is not None:
                ids.extend([found] * (LATIN_QUERY_WEIGHT if token.isalpha() and token.isascii() else 1))
        return ids

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every article for ``query`` (zeros when no token is indexed)."""
        ids = self.query_ids(query) if self._bm25 is not None else []
        if not ids or self._bm25 is None:
            return np.zeros(len(self._keys), dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids))

    def search(self, query: str, limit: int = 3, *, among: Collection[str] | None = None,
               min_score: float | None = None) -> list[tuple[str, float]]:
        """The best ``limit`` articles as ``(key, score)``, best first, each scoring at least
        ``min_score`` (default: the index's); ``among`` keeps only those keys."""
        if limit < 1 or not self._keys:
            return []
        floor = self.min_score if min_score is None else min_score
        scores = self.scores(query)
        if among is not None:
            mask = np.zeros(len(self._keys), dtype=bool)
            for key in among:
                position = self._position.get(key)
                if position is not None:
                    mask[position] = True
            scores = np.where(mask, scores, -1.0)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(self._keys[i], round(float(scores[i]), 4)) for i in order
                if scores[i] > 0 and scores[i] >= floor]
