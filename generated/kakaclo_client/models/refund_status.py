from enum import StrEnum


class RefundStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    REFUND_FAILED = "refund_failed"
    REFUND_SUCCESSFULLY = "refund_successfully"

    def __str__(self) -> str:
        return str(self.value)
