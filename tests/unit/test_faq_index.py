"""The FAQ retrieval index (issue 5 §3): BM25 over jieba tokens, Chinese and English, a minimum
score, unpublished articles left out; and the default articles (data/faq/articles.toml) answering
the questions people ask."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kefu.adapters.search.faq_index import FaqDocument, FaqIndex, faq_tokens
from kefu.domain.bot.intents import INTENTS

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "data" / "faq" / "articles.toml"

INVOICE = FaqDocument(
    key="invoice", title_zh="怎么开发票", title_en="How to get an invoice",
    body_zh="下单时选择发票类型并填写抬头，订单完成后在订单详情下载电子发票。抬头写错可以申请换开。",
    body_en="Choose the invoice type and title when ordering; download the electronic invoice from the order "
            "details once it completes. A wrong title can be changed.",
    keywords=("开票", "电子发票", "报销"))
MEMBERSHIP = FaqDocument(
    key="plus", title_zh="PLUS 会员权益", title_en="PLUS membership benefits",
    body_zh="PLUS 会员退货上门取件即退款，专属客服热线 950616。会员费以开通页面为准。",
    body_en="PLUS members are refunded at pickup and have their own hotline, 950616.",
    keywords=("会员", "续费"))
RETURNS = FaqDocument(
    key="returns", title_zh="七天无理由退货", title_en="7-day no-reason returns",
    body_zh="签收后 7 天内可无理由退货，商品须完好。寄回运费由您承担，订单有运费险的自动理赔。",
    body_en="Return within 7 days of receipt without a reason; the goods must be intact. You pay return "
            "shipping; shipping insurance reimburses it.",
    keywords=("不想要了", "退货"))
PAYMENT = FaqDocument(
    key="payment", title_zh="付款失败怎么办", title_en="Payment failed",
    body_zh="银行卡限额不足或被风控拦截时，请换一张卡或联系发卡银行。",
    body_en="Over the card limit or blocked by a risk check: use another card or call your bank.",
    keywords=("支付失败", "付不了款"))
CORPUS = [INVOICE, MEMBERSHIP, RETURNS, PAYMENT]


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex(CORPUS)


def keys(found: list[tuple[str, float]]) -> list[str]:
    return [key for key, _score in found]


def test_an_invoice_question_ranks_the_invoice_article_first(index: FaqIndex) -> None:
    found = index.search("发票抬头写错了能改吗", limit=4)
    assert keys(found)[0] == "invoice"
    assert found[0][1] >= index.min_score
    assert [s for _k, s in found] == sorted((s for _k, s in found), reverse=True)


def test_an_english_question_finds_the_english_text(index: FaqIndex) -> None:
    assert keys(index.search("How do I download my invoices?"))[:1] == ["invoice"]
    assert keys(index.search("my payment failed, card limit"))[:1] == ["payment"]


@pytest.mark.parametrize("query", ["今天北京天气怎么样", "讲个笑话呗", "你好", "what's the weather like", "",
                                   "？？！！"])
def test_an_unrelated_or_empty_query_finds_nothing(index: FaqIndex, query: str) -> None:
    assert index.search(query) == []


def test_a_weak_match_below_the_minimum_score_is_dropped(index: FaqIndex) -> None:
    # "银行" appears once in one body: a hit, but far below the threshold
    weak = index.search("银行", min_score=0.0)
    assert keys(weak) == ["payment"] and 0 < weak[0][1] < index.min_score
    assert index.search("银行") == []


def test_unpublished_articles_are_never_found() -> None:
    hidden = FaqDocument(key="hidden", title_zh="怎么开发票（草稿）", body_zh="发票草稿", keywords=("发票",),
                         published=False)
    index = FaqIndex([hidden, *CORPUS])
    assert "hidden" not in index.keys
    assert "hidden" not in keys(index.search("怎么开发票", limit=10, min_score=0.0))
    assert FaqIndex([hidden]).search("怎么开发票", min_score=0.0) == []


def test_the_title_counts_more_than_the_body() -> None:
    in_title = FaqDocument(key="insurance", title_zh="运费险怎么理赔", body_zh="退货完成后自动理赔单程运费。")
    in_body = FaqDocument(key="fees", title_zh="退货运费谁承担",
                          body_zh="无理由退货的运费由您承担，有运费险的可以理赔。")
    found = FaqIndex([in_body, in_title, RETURNS]).search("运费险", min_score=0.0)
    assert keys(found)[:2] == ["insurance", "fees"]


def test_keywords_find_an_article_by_the_words_people_type(index: FaqIndex) -> None:
    assert keys(index.search("付不了款"))[:1] == ["payment"]


def test_among_limits_the_search_to_some_articles(index: FaqIndex) -> None:
    assert keys(index.search("PLUS 会员退货", among={"returns"}, min_score=0.0)) == ["returns"]
    assert index.search("发票", among=set(), min_score=0.0) == []


def test_english_words_are_stemmed_and_stop_words_dropped() -> None:
    assert faq_tokens("Invoices") == faq_tokens("invoice")
    assert faq_tokens("refunded") == faq_tokens("refunds") == ["refund"]
    assert faq_tokens("How do I get the invoice?") == ["get", *faq_tokens("invoice")]
    assert "吗" not in faq_tokens("能开发票吗")


def test_an_empty_index_finds_nothing() -> None:
    assert FaqIndex([]).search("发票") == []
    assert len(FaqIndex([])) == 0


# ── the default articles ─────────────────────────────────────────────────────────────────


def default_documents() -> tuple[list[FaqDocument], dict[str, str | None]]:
    raw = tomllib.loads(DEFAULT_FILE.read_text(encoding="utf-8"))["articles"]
    docs = [FaqDocument(key=a["slug"], title_zh=a["title_zh"], body_zh=a["body_zh"], title_en=a.get("title_en", ""),
                        body_en=a.get("body_en", ""), keywords=tuple(a.get("keywords", ()))) for a in raw]
    return docs, {a["slug"]: a.get("intent") for a in raw}


@pytest.fixture(scope="module")
def defaults() -> FaqIndex:
    return FaqIndex(default_documents()[0])


def test_the_default_articles_are_bilingual_and_name_known_intents() -> None:
    docs, intents = default_documents()
    assert len(docs) >= 30
    assert all(d.title_en and d.body_en for d in docs)
    assert {i for i in intents.values() if i} <= set(INTENTS)
    assert {"invoice", "membership", "contact_channels", "payment_issue", "price_protection",
            "return_policy", "order_status", "cancel_order", "change_address", "complaint"} <= set(intents.values())


@pytest.mark.parametrize(("question", "expected"), [
    ("怎么开发票", "invoice-electronic"),
    ("订单240198375613税号填错了 能重开吗", "invoice-change-title"),
    ("能开增值税专用发票吗？我们公司报销要用", "invoice-vat-special"),
    ("PLUS会员有哪些权益", "plus-membership"),
    ("会员自动续费怎么关", "plus-join-renew-cancel"),
    ("客服电话多少", "contact-channels"),
    ("热线几点到几点有人接？", "service-hours"),
    ("钱扣了两次！！", "payment-charged-twice"),
    ("付了钱订单不见了？？我支付宝显示付款成功了", "payment-paid-order-unpaid"),
    ("白条付款提示额度不足", "payment-bank-limits"),
    ("刚买两天就降价了，能退差价吗？", "price-protection"),
    ("一键价保在哪里点？", "price-protection-one-click"),
    ("七天无理由退货是从哪天开始算的？", "return-7-day-no-reason"),
    ("拆封了还能退吗", "return-opened-goods"),
    ("请问生鲜水果支持退货吗？", "return-excluded-categories"),
    ("退货运费谁出啊", "return-shipping-fee"),
    ("运费险是怎么赔的？", "shipping-insurance"),
    ("退款一般几天能到账？", "refund-timing"),
    ("如果退货的话，赠品也要一起寄回去吗", "return-gifts"),
    ("手机屏幕摔碎了能免费修吗", "accident-protection"),
    ("修了两次还是坏的", "sanbao-repeated-repair"),
    ("怎么取消订单啊", "cancel-order"),
    ("收货地址写错了，能改吗？", "change-address"),
    ("我要投诉客服", "complaint-process"),
    ("有人打电话说给我退款要先交钱", "account-security"),
    ("How do I get an invoice?", "invoice-electronic"),
    ("how long does a refund take", "refund-timing"),
    ("the price dropped after I bought it", "price-protection"),
    ("what is the hotline number", "contact-channels"),
    ("my parcel never arrived", "refund-only-not-received"),
    ("change the delivery address", "change-address"),
])
def test_the_default_articles_answer_common_questions(defaults: FaqIndex, question: str, expected: str) -> None:
    assert keys(defaults.search(question))[:1] == [expected]


@pytest.mark.parametrize("question", ["今天北京天气怎么样？", "讲个笑话呗😂", "你会唱歌吗", "推荐几部好看的电影吧。",
                                      "苹果手机多少钱", "what's the weather like", "在吗"])
def test_the_default_articles_are_not_cited_for_unrelated_messages(defaults: FaqIndex, question: str) -> None:
    assert defaults.search(question) == []
