"""What a reply compliance check returns, and the operator's rules it runs with.

The kinds and their boundaries are those of shared/eval/compliance/README.md (售后回复合规):
contact details outside the platform, links to other sites, bank or payment accounts, QR codes,
physical shops, advertising and abusive language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: every kind of violation, in the order the README lists them
KINDS: tuple[str, ...] = (
    "phone", "im_account", "email", "external_link", "bank_account", "payment_account", "qr_code",
    "offline_store", "advertising", "abusive",
)

#: kind → (why it is blocked in Chinese, in English); shown to the author of a blocked reply
KIND_LABELS: dict[str, tuple[str, str]] = {
    "phone": ("回复中含有平台外的电话号码，请通过平台沟通。",
              "The reply contains a phone number outside the platform; keep the conversation here."),
    "im_account": ("回复中含有微信、QQ 等站外聊天账号，或邀请顾客添加站外好友。",
                   "The reply gives a WeChat, QQ or other messenger account, or invites the customer to "
                   "add one."),
    "email": ("回复中含有电子邮箱地址。", "The reply contains an e-mail address."),
    "external_link": ("回复中含有平台以外网站的链接。", "The reply links to a site outside the platform."),
    "bank_account": ("回复中含有银行卡号或银行账户，退款和付款请走平台。",
                     "The reply contains a bank card or bank account number; money goes through the "
                     "platform."),
    "payment_account": ("回复中含有支付宝等支付账户，或引导顾客在平台外付款、收款。",
                        "The reply gives an Alipay or other payment account, or asks to pay or be paid "
                        "outside the platform."),
    "qr_code": ("回复中提供二维码、收款码或引导顾客扫码。",
                "The reply offers a QR code or payment code, or asks the customer to scan one."),
    "offline_store": ("回复中邀请顾客到线下实体店，或给出门店地址。",
                      "The reply invites the customer to a physical shop or gives its address."),
    "advertising": ("回复中含有站外广告或引流（其他店铺、平台、直播间）。",
                    "The reply advertises other shops, marketplaces or live streams."),
    "abusive": ("回复中含有辱骂、侮辱或轻蔑的语言，请文明回复。",
                "The reply contains insulting, abusive or contemptuous language."),
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One thing in a reply that may not be sent: its kind and the text that shows it."""

    kind: str
    match: str

    @property
    def reason_zh(self) -> str:
        return KIND_LABELS[self.kind][0]

    @property
    def reason_en(self) -> str:
        return KIND_LABELS[self.kind][1]

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "match": self.match, "reason_zh": self.reason_zh,
                "reason_en": self.reason_en}


@dataclass(frozen=True, slots=True)
class ComplianceResult:
    """A reply may be sent when ``allowed``; otherwise ``violations`` say why (in text order)."""

    allowed: bool
    violations: tuple[Violation, ...] = ()

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(v.kind for v in self.violations)

    def as_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "violations": [v.as_dict() for v in self.violations]}


@dataclass(frozen=True)
class ComplianceRules:
    """Operator data the check runs with (``policies/compliance.toml``).

    ``allowed_domains`` are the platform's own sites (a subdomain counts as the domain);
    ``platform_hotlines`` are numbers a reply may give; ``extra_words`` adds literal phrases per
    kind to the built-in lexicons (matched after the same normalisation as the text).
    """

    allowed_domains: frozenset[str] = frozenset({"mall.example.com"})
    platform_hotlines: frozenset[str] = frozenset({"950618"})
    extra_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.extra_words) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown compliance kinds in extra_words: {', '.join(unknown)}")

    def domain_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def hotline_allowed(self, digits: str) -> bool:
        return digits in self.platform_hotlines
