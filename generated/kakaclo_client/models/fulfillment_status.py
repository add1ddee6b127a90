from enum import StrEnum


class FulfillmentStatus(StrEnum):
    COMPLETED = "completed"
    FULLY_SHIPPED = "fully_shipped"
    PARTIALLY_SHIPPED = "partially_shipped"
    WAITING_TO_SHIP = "waiting_to_ship"

    def __str__(self) -> str:
        return str(self.value)
