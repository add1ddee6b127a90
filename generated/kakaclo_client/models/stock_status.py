from enum import StrEnum


class StockStatus(StrEnum):
    NORMAL = "normal"
    SOLD_OUT = "sold_out"

    def __str__(self) -> str:
        return str(self.value)
