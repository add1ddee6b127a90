"""How a pending refund settles: ``pending_review`` becomes final once its time has come.

A refund whose remark contains ``[fail]`` settles to ``refund_failed`` and
releases its pieces; every other one settles to ``refund_successfully``. A
settled refund never changes again. Once every piece of an order is refunded,
the order is cancelled, as the vendor's "cancel and refund" says.
"""

from __future__ import annotations

from kakaclo_client.models import RefundStatus

FAIL_MARKER = "[fail]"


def outcome(remark: str | None) -> RefundStatus:
    """How a refund with this remark settles."""
    if remark and FAIL_MARKER in remark:
        return RefundStatus.REFUND_FAILED
    return RefundStatus.REFUND_SUCCESSFULLY
