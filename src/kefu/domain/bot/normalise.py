"""Normalising customer messages before the assistant reads them.

Two steps, kept apart because slots need the first and the classifier both:

* :func:`fold` — Unicode NFKC, which turns full-width digits, letters and punctuation into their
  half-width forms (``２０２６`` → ``2026``, ``？`` → ``?``), and drops zero-width characters. Case
  is kept; lengths may change, so slot positions are always taken on the folded text.
* :func:`canonical` — for the classifier's features only: Latin letters lower-cased, runs of
  spaces squeezed, and the spellings shoppers really type mapped to one form: pinyin-IME
  homophone slips (退贷 → 退货, 物留 → 物流, 到那了 → 到哪了, 在马 → 在吗), colloquial spellings
  (咋 → 怎么, 啥 → 什么), whole pinyin words (tuikuan → 退款) and the English shop words people mix
  in (refund → 退款, order → 订单). A mapped message reads like the Chinese the training data
  teaches, so one example of 退款 covers all its spellings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

_INVISIBLE = re.compile("[\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\ufeff]")
_SPACES = re.compile(r"\s+")

#: homophone and near-form slips of the pinyin IME, and colloquial spellings → the usual form.
#: Only strings that are not themselves common words go here (so 保价 stays: it means 价保 too).
TYPOS: Mapping[str, str] = MappingProxyType({
    "退贷": "退货", "退或": "退货", "推货": "退货", "腿货": "退货",
    "退宽": "退款", "腿款": "退款", "推款": "退款", "退欵": "退款",
    "物留": "物流", "无流": "物流", "物刘": "物流", "勿流": "物流",
    "快第": "快递", "快弟": "快递", "块递": "快递",
    "到那了": "到哪了", "到那里了": "到哪里了", "到那儿了": "到哪儿了",
    "在马": "在吗", "在嘛": "在吗", "在么": "在吗", "再吗": "在吗", "在木": "在吗",
    "发漂": "发票", "发飘": "发票", "发瞟": "发票", "法票": "发票",
    "价宝": "价保", "假保": "价保",
    "投素": "投诉", "头诉": "投诉", "偷诉": "投诉",
    "人公": "人工", "仁工": "人工",
    "取销": "取消", "去消": "取消", "取晓": "取消",
    "地扯": "地址", "地止": "地址", "低址": "地址",
    "订丹": "订单", "定单": "订单", "订但": "订单",
    "发或": "发货", "法货": "发货",
    "会原": "会员", "汇员": "会员",
    "客腐": "客服", "客福": "客服",
    "电化": "电话", "付宽": "付款", "扣宽": "扣款",
    "肿么": "怎么", "怎莫": "怎么", "怎摸": "怎么", "咋": "怎么", "神马": "什么", "啥": "什么",
    "木有": "没有", "么有": "没有", "米有": "没有", "介个": "这个", "酱紫": "这样子",
})

#: whole Latin words (lower case) → the Chinese word they stand for: pinyin typed without the IME,
#: and English shop words
WORDS: Mapping[str, str] = MappingProxyType({
    # pinyin
    "tuihuo": "退货", "tuikuan": "退款", "huanhuo": "换货", "weixiu": "维修", "shouhou": "售后",
    "fapiao": "发票", "kaipiao": "开票", "kuaidi": "快递", "wuliu": "物流", "fahuo": "发货",
    "dingdan": "订单", "quxiao": "取消", "dizhi": "地址", "rengong": "人工", "zhuanrengong": "转人工",
    "kefu": "客服", "jiabao": "价保", "huiyuan": "会员", "tousu": "投诉", "zaima": "在吗",
    "nihao": "你好", "dianhua": "电话", "zhifu": "支付", "fukuan": "付款", "daonale": "到哪了",
    "zaibuzai": "在不在", "youren": "有人", "yourenma": "有人吗", "buliao": "不了", "shibai": "失败",
    "shenmeshihou": "什么时候", "duojiu": "多久", "tuiqian": "退钱", "kaipiaoma": "开票吗", "cuidan": "催单",
    "fapiaoma": "发票吗", "chaxun": "查询", "chadingdan": "查订单", "chawuliu": "查物流", "gaidizhi": "改地址",
    "quxiaodingdan": "取消订单", "jiage": "价格", "jiangjia": "降价", "chajia": "差价", "xufei": "续费",
    "kaitong": "开通", "rexian": "热线", "youxiang": "邮箱", "tianqi": "天气",
    # English
    "refund": "退款", "refunds": "退款", "refunded": "退款", "return": "退货", "returns": "退货",
    "exchange": "换货", "repair": "维修", "invoice": "发票", "invoices": "发票", "fapiaos": "发票",
    "cancel": "取消", "cancelled": "取消", "canceled": "取消", "address": "地址", "order": "订单",
    "orders": "订单", "parcel": "包裹", "package": "包裹", "delivery": "配送", "delivered": "送达",
    "shipped": "发货", "ship": "发货", "tracking": "物流", "logistics": "物流", "complain": "投诉",
    "complaint": "投诉", "hotline": "热线", "email": "邮箱", "human": "人工", "agent": "人工",
    "payment": "支付", "pay": "支付", "paid": "付款", "membership": "会员", "member": "会员",
    "vip": "会员", "warranty": "保修", "size": "尺寸", "colour": "颜色", "color": "颜色",
    "battery": "电池", "weight": "重量", "material": "材质", "compatible": "兼容",
})

_TYPO_RE = re.compile("|".join(sorted(map(re.escape, TYPOS), key=len, reverse=True)))
_WORD_RE = re.compile(r"[a-z]+")
#: up to six Latin words in a row, which may be one pinyin word typed syllable by syllable
_WORD_RUN = re.compile(r"[a-z]+(?: [a-z]+){0,5}")


def fold(text: str) -> str:
    """``text`` in NFKC (full-width → half-width) without zero-width characters; case kept."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def _word(word: str) -> str:
    found = WORDS.get(word)
    if found is None and len(word) > 3 and word.endswith("s"):
        found = WORDS.get(word[:-1])
    return found if found is not None else word


def _words(match: re.Match[str]) -> str:
    """Map a run of Latin words, joining syllables where the joined word is known
    (``zai ma`` → 在吗, ``tui kuan`` → 退款), longest join first."""
    parts = match.group(0).split(" ")
    out: list[str] = []
    i = 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            joined = "".join(parts[i:j])
            if j - i > 1 and joined in WORDS:
                out.append(WORDS[joined])
                i = j
                break
        else:
            out.append(_word(parts[i]))
            i += 1
    return " ".join(out)


def canonical(text: str) -> str:
    """The classifier's view of already-folded text: lower case, single spaces, typos and
    pinyin/English shop words mapped to their Chinese form."""
    text = _SPACES.sub(" ", text.lower()).strip()
    text = _TYPO_RE.sub(lambda m: TYPOS[m.group(0)], text)
    return _WORD_RUN.sub(_words, text)
