from enum import StrEnum


class RefundReason(StrEnum):
    DONT_WANT_ANYMORE = "Don't Want Anymore"
    INCORRECT_ADDRESS_INFORMATION = "Incorrect Address Information"
    OTHER = "Other"
    OUT_OF_STOCK = "Out Of Stock"
    PRODUCT_SELECTION_ERROR_OR_MULTIPLE_SELECTION = (
        "Product Selection Error/Multiple Selection"
    )

    def __str__(self) -> str:
        return str(self.value)
