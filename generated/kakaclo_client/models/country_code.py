from enum import StrEnum


class CountryCode(StrEnum):
    CN = "CN"
    US = "US"

    def __str__(self) -> str:
        return str(self.value)
