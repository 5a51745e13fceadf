"""Slot extraction: the order id, mobile number and waybill number a message states.

The rules of shared/eval/bot/README.md, read on the folded text (:func:`~kefu.domain.bot.normalise.fold`,
so full-width digits count):

* ``order_id`` — a 12-digit order number. Digits may be written in groups with spaces or dashes
  (``2026 0305-1234``); the value has them removed. When a message states two, the first is the
  order id.
* ``phone`` — an 11-digit mainland mobile number, ``1[3-9]`` and nine digits, also as
  ``138 1234 5678``, ``138-1234-5678`` or with ``+86`` in front.
* ``tracking_no`` — a carrier waybill number: a letter prefix and digits (``SF1402938475610``,
  ``JDVC20394857162``, ``yt7591034826413``, ``EA123456789CN``), upper-cased; or digits alone when
  the message calls the number a 快递单号 / 运单号 or names the carrier (顺丰, 中通 …).
* A number named as a product or item number (商品编号, 货号, 型号, SKU …) is no slot at all.

How a number is read: its label is the word right before it (``订单号：``, ``手机号改成``,
``顺丰单号``, ``SKU``). A labelled number is what its label says, if it has that slot's shape. An
unlabelled one goes by its shape: 12 digits are an order id — unless the message names a carrier
or waybill and never an order, then a waybill — 11 digits that look like a mobile are a phone,
other runs of 10–20 digits are a waybill only when the message names a carrier or waybill.
A number listed right after another (``型号 X 和 Y``, ``订单 X、Y``) shares its label when it
has that label's shape. Digit groups
that together form more than one number (``202603051234 13812345678``) are split where the
pieces each have a slot's shape; a run called a waybill is read whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kefu.domain.bot.normalise import fold

_CARRIER = (r"(?:顺丰|中通|圆通|韵达|申通|极兔|京东快递|京东物流|邮政|ems|德邦|百世|宅急送|菜鸟|跨越|丰网|优速|安能|"
            r"天天快递|sf|zto|yto|sto|j&t)")
_TRACKING_WORD = (r"(?:快递单号|运单号|物流单号|运单编号|快递单|物流单|快递号|物流号|运单|包裹号|面单号|"
                  r"waybill|tracking)")
_TRACKING_LABEL = (rf"(?:{_CARRIER}(?:速运|快递|速递|物流)?的?(?:快递单号|运单号|物流单号|单号|运单|单)?|"
                   r"快递单号|运单号|物流单号|运单编号|快递单|物流单|快递号|物流号|运单|包裹号|面单号|"
                   r"waybill(?:\s*(?:no\.?|number))?|tracking(?:\s*(?:no\.?|number|#))?|快递)")
_PRODUCT_LABEL = (r"(?:商品编号|商品编码|商品号|商品id|商品|宝贝编号|宝贝|产品编号|产品型号|产品|货号|款号|型号|编码|"
                  r"sku(?:\s*(?:no\.?|id|号|编号))?|spu|item(?:\s*(?:no\.?|id|number|#))?|"
                  r"product(?:\s*(?:id|no\.?|code|number))?|model)")
_ORDER_LABEL = r"(?:子订单号|订单号|订单编号|订单|order(?:\s*(?:no\.?|id|number|#))?)"
_PHONE_LABEL = (r"(?:手机号|手机|电话号|电话|联系电话|联系方式|收件人电话|收货电话|tel|phone(?:\s*(?:no\.?|number))?|"
                r"mobile)")
_NEUTRAL_LABEL = r"(?:单号|编号|号码|单子|id|no\.?|#)"

_GLUE = (r"码?的?[\s:：#=()（）\[\]【】]*(?:是|为|叫|改成|改为|换成|更改为|修改为|变更为|改到|换为)?"
         r"[\s:：#=]*")
_LABEL_BEFORE = re.compile(
    rf"(?:(?P<tracking>{_TRACKING_LABEL})|(?P<product>{_PRODUCT_LABEL})|(?P<order>{_ORDER_LABEL})|"
    rf"(?P<phone>{_PHONE_LABEL})|(?P<neutral>{_NEUTRAL_LABEL})){_GLUE}$", re.IGNORECASE)
_NAMES_TRACKING = re.compile(rf"{_CARRIER}|{_TRACKING_WORD}", re.IGNORECASE)
_NAMES_ORDER = re.compile(r"订单|order", re.IGNORECASE)

#: letters (a carrier prefix, or a label like SKU), then digit groups, then maybe two letters
_RUN = re.compile(r"(?<![A-Za-z0-9&])(?:(?P<prefix>[A-Za-z]{1,8})[ \-]?)?"
                  r"(?P<digits>\d+(?:(?: {1,2}|[\-–—‐_])\d+)*)"
                  r"(?P<suffix>[A-Za-z]{2}(?![A-Za-z]))?(?![0-9])")
_GROUP = re.compile(r"\d+")
#: waybill prefixes that may stand apart from their digits (``SF 1402…``); any other word before
#: a space is just a word (``thx 5501…``), while letters glued to digits always are a prefix
CARRIER_CODES = frozenset({
    "SF", "JD", "JDV", "JDVA", "JDVB", "JDVC", "JDVE", "JDX", "JDK", "YT", "YTO", "ZTO", "STO", "JT", "YD",
    "YUNDA", "EMS", "DPK", "DBL", "BEST", "HTKY", "TT", "ZJS", "KYE", "ANE", "UC", "CN", "FW",
})
_MOBILE = re.compile(r"(?:86)?(1[3-9]\d{9})")
_LOOK_BACK = 24
#: what may stand between two numbers of a list
_LISTED = re.compile(r"\s*(?:和|跟|与|及|以及|还有|、|,|，|/|;|；|or|and)\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SlotMatch:
    """One slot found in the folded text: its name, normalised value and span."""

    name: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Piece:
    digits: str
    start: int
    end: int
    prefix: str = ""
    suffix: str = ""


def _label_before(text: str, start: int) -> str | None:
    match = _LABEL_BEFORE.search(text[max(0, start - _LOOK_BACK):start])
    return match.lastgroup if match else None


def _prefix_label(prefix: str) -> str | None:
    """What a letter prefix glued to digits is: a label word (SKU, order, tel …) or, if none, a
    carrier's waybill prefix."""
    match = _LABEL_BEFORE.fullmatch(prefix)
    if match is None or match.lastgroup == "tracking":
        return "carrier"
    return match.lastgroup


def _shape_score(digits: str, has_prefix: bool, waybill_label: bool) -> float:
    n = len(digits)
    if has_prefix or waybill_label:
        return 1.0 if 8 <= n <= 20 else 0.0
    if n == 12 or (n in (11, 13) and _MOBILE.fullmatch(digits)):
        return 1.0
    return 0.5 if 10 <= n <= 20 else 0.0


def _split(groups: list[re.Match[str]], has_prefix: bool, waybill_label: bool) -> list[tuple[int, int]]:
    """Cut digit groups into consecutive pieces (``[i, j)`` group ranges) whose shapes score best;
    fewer pieces win a tie."""
    n = len(groups)
    empty: list[tuple[int, int]] = []
    best: list[tuple[float, int, list[tuple[int, int]]]] = [(0.0, 0, empty)] + [(-1.0, 0, empty)] * n
    for j in range(1, n + 1):
        for i in range(j):
            score, count, cuts = best[i]
            if score < 0:
                continue
            digits = "".join(g.group(0) for g in groups[i:j])
            total = score + _shape_score(digits, has_prefix and i == 0, waybill_label and i == 0)
            if total > best[j][0] or (total == best[j][0] and count + 1 < best[j][1]):
                best[j] = (total, count + 1, [*cuts, (i, j)])
    return best[n][2]


def _waybill_context(text: str, start: int, names_tracking: bool, names_order: bool) -> bool:
    """Whether digits at ``start`` are called a waybill: by their label, or by an unspecific one
    (单号) in a message that names a carrier and no order."""
    label = _label_before(text, start)
    return label == "tracking" or (label == "neutral" and names_tracking and not names_order)


def _pieces(text: str, names_tracking: bool, names_order: bool) -> list[_Piece]:
    out: list[_Piece] = []
    for run in _RUN.finditer(text):
        prefix, suffix = run.group("prefix") or "", run.group("suffix") or ""
        base = run.start("digits")
        apart = bool(prefix) and run.end("prefix") < base
        if apart and prefix.upper() not in CARRIER_CODES and _prefix_label(prefix) == "carrier":
            prefix = ""
        groups = list(_GROUP.finditer(run.group("digits")))
        waybill = not prefix and _waybill_context(text, run.start(), names_tracking, names_order)
        cuts = _split(groups, bool(prefix), waybill)
        for number, (i, j) in enumerate(cuts):
            first, last = number == 0, number == len(cuts) - 1
            out.append(_Piece(
                digits="".join(g.group(0) for g in groups[i:j]),
                start=run.start() if first and prefix else base + groups[i].start(),
                end=run.end() if last else base + groups[j - 1].end(),
                prefix=prefix if first else "", suffix=suffix if last else ""))
    return out


def _read(piece: _Piece, text: str, names_tracking: bool, names_order: bool,
          inherited: str | None) -> tuple[SlotMatch | None, str | None]:
    """The slot ``piece`` is (if any) and the label it was read with."""
    label = _prefix_label(piece.prefix) if piece.prefix else None
    if label in (None, "neutral"):
        label = _label_before(text, piece.start) or inherited or label
    return _read_as(piece, label, names_tracking, names_order), label


def _read_as(piece: _Piece, label: str | None, names_tracking: bool, names_order: bool) -> SlotMatch | None:
    digits, n = piece.digits, len(piece.digits)
    if label == "product":
        return None
    mobile = _MOBILE.fullmatch(digits)
    if label == "carrier" or (piece.suffix and piece.prefix):
        if 8 <= n <= 20:
            value = (piece.prefix + digits + piece.suffix).upper()
            return SlotMatch("tracking_no", value, piece.start, piece.end)
        return None
    if label == "tracking":
        if 8 <= n <= 20:
            return SlotMatch("tracking_no", digits, piece.start, piece.end)
        return None
    if label == "order":
        return SlotMatch("order_id", digits, piece.start, piece.end) if n == 12 else None
    if label == "phone":
        return SlotMatch("phone", mobile.group(1), piece.start, piece.end) if mobile else None
    if n == 12:
        name = "tracking_no" if names_tracking and not names_order else "order_id"
        return SlotMatch(name, digits, piece.start, piece.end)
    if mobile:
        return SlotMatch("phone", mobile.group(1), piece.start, piece.end)
    if names_tracking and 10 <= n <= 20:
        return SlotMatch("tracking_no", digits, piece.start, piece.end)
    return None


def find_slots(folded: str) -> list[SlotMatch]:
    """Every slot-shaped number in already-folded text, in order of appearance."""
    names_tracking = _NAMES_TRACKING.search(folded) is not None
    names_order = _NAMES_ORDER.search(folded) is not None
    found: list[SlotMatch] = []
    previous: tuple[int, str | None] = (-1, None)
    for piece in _pieces(folded, names_tracking, names_order):
        # "型号 X 和 Y", "订单 X、Y": a number listed right after another shares its label
        end, label = previous
        inherited = label if end >= 0 and _LISTED.fullmatch(folded[end:piece.start]) else None
        match, label = _read(piece, folded, names_tracking, names_order, inherited)
        if match is None and inherited not in (None, "product"):
            match, label = _read(piece, folded, names_tracking, names_order, None)
        previous = (piece.end, label)
        if match is not None:
            found.append(match)
    return found


def first_slots(matches: list[SlotMatch]) -> dict[str, str]:
    """The first value of each slot (a message naming two orders means the first)."""
    slots: dict[str, str] = {}
    for m in matches:
        slots.setdefault(m.name, m.value)
    return slots


@lru_cache(maxsize=4096)
def _cached(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(first_slots(find_slots(fold(text))).items())


def extract_slots(text: str) -> dict[str, str]:
    """The slots ``text`` states, normalised (README rules above); absent slots are left out."""
    return dict(_cached(text))
