"""Reply compliance (售后回复合规): what a seller's or agent's reply to a customer may not contain.

    >>> check_reply("亲，加我微信abc_123，私下给您退").allowed
    False

Rules and kinds: shared/eval/compliance/README.md. Operator data (the platform's domains and
hotlines, extra words) comes in a :class:`ComplianceRules` (``policies/compliance.toml``).
"""

from kefu.domain.compliance.checker import DEFAULT_RULES, check_reply
from kefu.domain.compliance.model import KIND_LABELS, KINDS, ComplianceResult, ComplianceRules, Violation

__all__ = [
    "DEFAULT_RULES", "KINDS", "KIND_LABELS", "ComplianceResult", "ComplianceRules", "Violation", "check_reply",
]
