from enum import StrEnum


class FinancialStatus(StrEnum):
    PAID = "paid"
    WAITING = "waiting"

    def __str__(self) -> str:
        return str(self.value)
