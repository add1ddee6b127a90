from enum import StrEnum


class OrderRefundStatus(StrEnum):
    NULL = "NULL"
    PARTIAL_REFUND = "partial_refund"
    REFUNDED = "refunded"
    REFUNDING = "refunding"

    def __str__(self) -> str:
        return str(self.value)
