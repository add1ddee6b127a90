from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.refund_page import RefundPage


T = TypeVar("T", bound="QueryRefundResponse")


@_attrs_define
class QueryRefundResponse:
    """The success envelope of Query Refund."""

    code: int
    """ 10000 on success, the only code the vendor documents. """
    message: str
    """ The vendor sends `success`. """
    data: RefundPage
    """ A page of refunds. The real service may add other keys; they are kept.

    **Paging rules** (the same as `OrderPage`'s): every page of one
    listing answers the same `total`; `pageNumber` and `pageSize` echo the
    request (its defaults when left out); page *n* lists
    min(`pageSize`, `total` − (*n* − 1) × `pageSize`) entries, none on a
    page past the last; no entry appears on two pages, and the pages
    together list `total` entries. A refund keeps its `refundNo`, and a
    settled refund its status, from one read to the next.
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        message = self.message

        data = self.data.to_dict()

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
        from ..models.refund_page import RefundPage

        d = dict(src_dict)
        code = d.pop("code")

        message = d.pop("message")

        data = RefundPage.from_dict(d.pop("data"))

        query_refund_response = cls(
            code=code,
            message=message,
            data=data,
        )

        query_refund_response.additional_properties = d
        return query_refund_response

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
