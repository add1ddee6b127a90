from enum import StrEnum


class FulfillmentRecordStatus(StrEnum):
    COMPLETED = "completed"
    PREPARING = "preparing"
    SHIPPED = "shipped"

    def __str__(self) -> str:
        return str(self.value)
