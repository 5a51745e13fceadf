"""Word segmentation (kefu.adapters.segment): jieba's dictionary and modes, through rjieba."""

from __future__ import annotations

import pytest

from kefu.adapters.segment import VERSION, search_words, words


@pytest.mark.parametrize(("text", "expected"), [
    ("这个电池多大", ["这个", "电池", "多大"]),
    ("我的订单到哪了", ["我", "的", "订单", "到", "哪", "了"]),
    ("订单号", ["订单号"]),
    ("中华人民共和国", ["中华人民共和国"]),
])
def test_default_mode_cuts_as_jieba_does(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("订单号", ["订单", "单号", "订单号"]),
    ("中华人民共和国", ["中华", "华人", "人民", "共和", "共和国", "中华人民共和国"]),
    ("顺丰单号", ["顺丰单", "号"]),   # why search also indexes character pairs (tokens.py)
])
def test_search_mode_adds_the_dictionary_words_inside_a_word(text: str, expected: list[str]) -> None:
    assert search_words(text) == expected


def test_latin_words_and_numbers_stay_whole_and_spaces_are_words() -> None:
    assert words("支持 type-c 吗") == ["支持", " ", "type-c", " ", "吗"]
    assert words("电话138-1234-5678") == ["电话", "138-1234-5678"]


def test_the_version_names_the_segmenter_for_model_fingerprints() -> None:
    assert VERSION.startswith("rjieba ")
