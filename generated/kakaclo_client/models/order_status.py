from enum import StrEnum


class OrderStatus(StrEnum):
    ABNORMAL_ORDER = "abnormal_order"
    CANCEL = "cancel"
    COMPLETED = "completed"
    PROCESSING = "processing"
    WAITING_PAYMENT = "waiting_payment"
    WAITING_TO_SHIP = "waiting_to_ship"

    def __str__(self) -> str:
        return str(self.value)
