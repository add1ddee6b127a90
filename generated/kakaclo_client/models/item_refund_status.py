from enum import StrEnum


class ItemRefundStatus(StrEnum):
    NULL = "NULL"
    REFUNDED = "refunded"
    REFUNDING = "refunding"

    def __str__(self) -> str:
        return str(self.value)
