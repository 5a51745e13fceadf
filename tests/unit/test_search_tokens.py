"""Search tokens: jieba words and character pairs for Chinese, whole Latin/digit words."""

from __future__ import annotations

import pytest

from kefu.adapters.search.tokens import query_tokens, tokens


def test_chinese_is_indexed_as_words_and_pairs():
    got = tokens("顺丰单号没更新")
    assert "顺丰" in got and "单号" in got and "更新" in got


@pytest.mark.parametrize(("text", "expected"), [
    ("SF1234567890", ["sf1234567890"]),
    ("订单 O-2026-001 到了吗", ["订单", "o-2026-001", "到了", "了吗"]),
    ("ｓｆ１２３ 全角", ["sf123", "全角"]),
    ("mail@example.com", ["mail@example.com"]),
    ("，。！ ", []),
    ("退", ["退"]),
])
def test_query_tokens(text, expected):
    assert query_tokens(text) == expected


def test_every_query_token_of_a_phrase_is_in_the_index_of_a_text_holding_it():
    text = "买的蓝牙耳机左耳没声音，想申请退货退款"
    index = set(tokens(text))
    for phrase in ("蓝牙耳机", "退货退款", "左耳没声音", "申请"):
        assert set(query_tokens(phrase)) <= index
