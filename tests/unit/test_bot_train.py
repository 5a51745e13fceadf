"""Training the intent classifier: reproducible, the model file round-trips, the fast path gives
scikit-learn's own probabilities, a stale or missing model is retrained; and what the
classifier reads (placeholders, canonical spellings, the greeting and withdrawn-request rules)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from kefu.adapters.bot import intent_model
from kefu.config import PROJECT_ROOT
from kefu.domain.bot import INTENTS, Intent, features, read
from kefu.domain.bot.normalise import canonical
from kefu.domain.bot.scoring import LabelledMessage, parse_labelled

TRAIN = intent_model.DEFAULT_TRAIN_FILE
EXTRA = Path(__file__).resolve().parents[1] / "data" / "bot_extra.jsonl"
DEV = Path(os.environ.get("KEFU_SHARED_DIR", PROJECT_ROOT.parent / "shared")) / "eval" / "bot" / "dev.jsonl"
PROBES = ["在吗", "我的订单202603051234到哪了", "退货运费谁出", "算了不退了 发票怎么开", "转人工", "今天天气怎么样",
          "PLUS会员多少钱", "SF1402938475610", "退款怎么还没到", "这个多重"]

#: a small training set for the file and cache tests (fast to fit)
SMALL = [LabelledMessage(text, intent, {}) for intent, texts in {
    "greeting": ["你好", "在吗", "hello", "有人吗", "亲 在不在", "早上好"],
    "order_status": ["快递到哪了", "什么时候发货", "物流不动了", "查下订单", "几天能到", "包裹在哪"],
    "human_agent": ["转人工", "人工客服", "找真人", "不要机器人", "人工服务", "我要人工"],
}.items() for text in texts]


@pytest.fixture(scope="module")
def model() -> intent_model.IntentModel:
    return intent_model.train_from_file(TRAIN)


def test_training_is_reproducible(model: intent_model.IntentModel) -> None:
    again = intent_model.train_from_file(TRAIN)
    texts = PROBES + [json.loads(line)["text"] for line in EXTRA.read_text(encoding="utf-8").splitlines()]
    assert again.predict(texts) == model.predict(texts)
    for text in PROBES:
        assert again.intent_probabilities(features(text)) == model.intent_probabilities(features(text))
    assert again.fingerprint == model.fingerprint


def test_the_model_knows_every_intent(model: intent_model.IntentModel) -> None:
    assert sorted(model.intents) == sorted(INTENTS)


def test_the_fast_path_gives_scikit_learns_probabilities(model: intent_model.IntentModel) -> None:
    for text in [*PROBES, "", "zzzz qqqq", "我我我我我我"]:
        fast = np.array([model.intent_probabilities(features(text))[i] for i in model.intents])
        slow = model.pipeline.predict_proba([features(text)])[0]
        assert np.allclose(fast, slow, rtol=0, atol=1e-12), text
        assert fast.sum() == pytest.approx(1.0)


def test_the_model_file_round_trips(model: intent_model.IntentModel, tmp_path: Path) -> None:
    path = tmp_path / "bot" / "model.joblib"
    intent_model.save(model, path)
    loaded = intent_model.load(path)
    assert loaded.fingerprint == model.fingerprint
    assert loaded.predict(PROBES) == model.predict(PROBES)
    for text in PROBES:
        assert loaded.understand(text) == model.understand(text)
    assert [p.name for p in path.parent.iterdir()] == ["model.joblib"]  # no temporary file left


def test_a_missing_or_stale_model_is_trained_once_and_cached(tmp_path: Path) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"text": m.text, "intent": m.intent, "slots": {}}, ensure_ascii=False) + "\n"
                            for m in SMALL), encoding="utf-8")
    path = tmp_path / "model.joblib"
    intent_model.clear_cache()
    first = intent_model.load_or_train(path, data)
    assert path.is_file()
    assert intent_model.load_or_train(path, data) is first  # kept in memory
    written = path.stat().st_mtime_ns

    intent_model.clear_cache()
    assert intent_model.load_or_train(path, data).fingerprint == first.fingerprint
    assert path.stat().st_mtime_ns == written  # loaded, not retrained

    with data.open("a", encoding="utf-8") as handle:  # new training data: the cached model is stale
        handle.write(json.dumps({"text": "人工人工", "intent": "human_agent", "slots": {}}) + "\n")
    intent_model.clear_cache()
    fresh = intent_model.load_or_train(path, data)
    assert fresh.fingerprint != first.fingerprint
    assert intent_model.load(path).fingerprint == fresh.fingerprint

    path.write_bytes(b"not a model")  # a broken file is replaced
    intent_model.clear_cache()
    assert intent_model.load_or_train(path, data).fingerprint == fresh.fingerprint
    assert intent_model.load(path).fingerprint == fresh.fingerprint
    intent_model.clear_cache()


def test_a_foreign_pickle_is_refused(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "model.joblib"
    joblib.dump({"format": 999}, path)
    with pytest.raises(ValueError, match="format"):
        intent_model.load(path)


def test_training_needs_two_intents() -> None:
    with pytest.raises(ValueError):
        intent_model.train([m for m in SMALL if m.intent == "greeting"])


# ---- the training data -------------------------------------------------------------------------

def _key(text: str) -> str:
    return re.sub(r"\d", "0", text)


def test_every_intent_has_enough_varied_training_lines() -> None:
    messages = parse_labelled(TRAIN.read_text(encoding="utf-8"), str(TRAIN))
    counts = {intent: sum(m.intent == intent for m in messages) for intent in INTENTS}
    assert min(counts.values()) >= 100, counts
    assert len({_key(m.text) for m in messages}) == len(messages)  # no duplicates


def test_training_data_is_not_the_evaluation_data() -> None:
    train = {_key(m.text) for m in parse_labelled(TRAIN.read_text(encoding="utf-8"))}
    extra = {_key(m.text) for m in parse_labelled(EXTRA.read_text(encoding="utf-8"))}
    assert train & extra == set()
    if DEV.is_file():
        dev = {_key(m.text) for m in parse_labelled(DEV.read_text(encoding="utf-8"))}
        # only the definitions' own words (你好, 在吗, 转人工 …) may coincide
        assert {t for t in train & dev if len(t) > 4} == set()


# ---- what the classifier reads -----------------------------------------------------------------

@pytest.mark.parametrize(("text", "read_as"), [
    ("我的订单２０２６ ０３０５-１２３４到那了", "我的订单 \ue000 到哪了"),
    ("手机号改成138 1234 5678", "手机号改成 \ue001"),
    ("SF1402938475610 咋不动", "\ue002 怎么不动"),
    ("商品编号100012345678多重", "商品编号 \ue003 多重"),
    ("7天无理由 12315", "7天无理由 12315"),
    ("refund 什么时候到", "退款 什么时候到"),
    ("zai ma", "在吗"),
    ("物留一直不更新", "物流一直不更新"),
    ("不用取消了，就问问多久发货", "就问问多久发货"),
    ("算了不退了 发票怎么开", "发票怎么开"),
    ("地址不用改了 帮我查下物流", "帮我查下物流"),
    ("不想要了，能退吗", "不想要了,能退吗"),  # 不想要 is no withdrawn request
    ("不用了", "不用了"),  # nothing else asked: kept
])
def test_features(text: str, read_as: str) -> None:
    assert features(text) == read_as


@pytest.mark.parametrize(("text", "greeting_only"), [
    ("在吗", True), ("你好", True), ("亲 在不在呀", True), ("hello？有人吗", True), ("您好，请问客服在线吗", True),
    ("你好 想问个事儿", True), ("在马", True), ("哈喽哈喽", True), ("有人没有啊？？？", True),
    ("在吗 我要退货", False), ("你好 转人工", False), ("人工客服", False), ("谢谢", False), ("订单202603051234", False),
])
def test_the_greeting_only_rule(text: str, greeting_only: bool, model: intent_model.IntentModel) -> None:
    assert read(text).greeting_only is greeting_only
    if greeting_only:
        got = model.understand(text)
        assert got.intent is Intent.GREETING
        assert got.confidence == 1.0


def test_wordless_messages(model: intent_model.IntentModel) -> None:
    assert model.understand("？？？").intent is Intent.GREETING
    assert model.understand("😊").intent is Intent.OUT_OF_SCOPE
    assert model.understand("").intent is Intent.OUT_OF_SCOPE


def test_understanding_has_alternatives_and_json_shape(model: intent_model.IntentModel) -> None:
    got = model.understand("在吗 我的订单２０２６０３０５１２３４到哪了")
    assert got.intent is Intent.ORDER_STATUS
    assert 0.5 < got.confidence <= 1.0
    assert dict(got.slots) == {"order_id": "202603051234"}
    assert len(got.alternatives) == 3
    assert all(p <= got.confidence for _, p in got.alternatives)
    shape = got.as_dict()
    assert shape["intent"] == "order_status"
    assert shape["slots"] == {"order_id": "202603051234"}
    assert json.loads(json.dumps(shape, ensure_ascii=False)) == shape


def test_canonical_spellings() -> None:
    assert canonical("退贷 TuiKuan fapiao") == "退货 退款 发票"
    assert canonical("zhuan ren gong") == "转人工"
    assert canonical("What colors") == "what 颜色"
