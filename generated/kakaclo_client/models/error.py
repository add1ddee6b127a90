from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.error_code import ErrorCode
from ..types import UNSET, Unset

T = TypeVar("T", bound="Error")


@_attrs_define
class Error:
    """**Not documented by the vendor.** The envelope of every error
    response: a non-10000 `code` (see `ErrorCode`), a human-readable
    `message`, and `data` null. A code that a
    real service sends and this spec does not know still parses.

    """

    code: ErrorCode | int
    """ A code of `ErrorCode`, or a code this spec does not know (the real
    service's own), kept as a plain integer. One of two exclusive
    branches, so that generators type it as a union (`oneOf`; an
    `anyOf` becomes an empty type in TypeScript); the title keeps the
    value's own type apart from the `ErrorCode` enum. Which codes a
    response carries is its `x-codes`.
     """
    message: str
    """ What went wrong, naming the field or rule. """
    data: Any | Unset = UNSET
    """ Always null on errors. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code: int
        if isinstance(self.code, ErrorCode):
            code = self.code.value
        else:
            code = self.code

        message = self.message

        data = self.data

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "message": message,
            }
        )
        if data is not UNSET:
            field_dict["data"] = data

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_code(data: object) -> ErrorCode | int:
            try:
                if not isinstance(data, int):
                    raise TypeError()
                code_type_0 = ErrorCode(data)

                return code_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ErrorCode | int, data)

        code = _parse_code(d.pop("code"))

        message = d.pop("message")

        data = d.pop("data", UNSET)

        error = cls(
            code=code,
            message=message,
            data=data,
        )

        error.additional_properties = d
        return error

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
