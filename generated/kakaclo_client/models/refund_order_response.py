from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RefundOrderResponse")


@_attrs_define
class RefundOrderResponse:
    """The success envelope of Refund Order."""

    code: int
    """ 10000 on success, the only code the vendor documents (not a `const`, so a client can report a 200 carrying
    another code). """
    message: str
    """ The vendor sends `ok` or `kk.api.200`. """
    data: int | str
    """ A refund number. Documented as a digit string (real numbers, such as
    `1560897343230267394`, exceed the integers a JavaScript number holds
    exactly); the vendor's examples also show it as a JSON integer, so both
    are accepted. The sandbox always sends a string.
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        message = self.message

        data: int | str
        data = self.data

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "message": message,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        code = d.pop("code")

        message = d.pop("message")

        def _parse_data(data: object) -> int | str:
            return cast(int | str, data)

        data = _parse_data(d.pop("data"))

        refund_order_response = cls(
            code=code,
            message=message,
            data=data,
        )

        refund_order_response.additional_properties = d
        return refund_order_response

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
