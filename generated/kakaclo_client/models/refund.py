from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.refund_status import RefundStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="Refund")


@_attrs_define
class Refund:
    """One refund request of an order.

    **Its status agrees with its order** (as Query Order shows the order
    at the same time): while any refund of the order is `pending_review`,
    the order's `refundStatus` is `refunding`, and only then; otherwise
    the order is `refunded` or `partial_refund` when at least one refund
    settled `refund_successfully`, and `NULL` (or null) when none did. A
    line is `refunding` only while a refund is pending, and `refunded`
    only when a refund succeeded; every line of a `refunded` order is
    `refunded`. `id` is the order the refund belongs to.

    """

    refund_no: str
    """ The refund number, a digit string. """
    refund_status: RefundStatus
    """ `pending_review` until the refund settles; then `refund_successfully` or `refund_failed`, and it never
    changes again. """
    id: str | Unset = UNSET
    """ The order id the refund belongs to. """
    remark: None | str | Unset = UNSET
    """ The remark given with the refund; the real service may leave it out. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        refund_no = self.refund_no

        refund_status = self.refund_status.value

        id = self.id

        remark: None | str | Unset
        if isinstance(self.remark, Unset):
            remark = UNSET
        else:
            remark = self.remark

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "refundNo": refund_no,
                "refundStatus": refund_status,
            }
        )
        if id is not UNSET:
            field_dict["id"] = id
        if remark is not UNSET:
            field_dict["remark"] = remark

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        refund_no = d.pop("refundNo")

        refund_status = RefundStatus(d.pop("refundStatus"))

        id = d.pop("id", UNSET)

        def _parse_remark(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        remark = _parse_remark(d.pop("remark", UNSET))

        refund = cls(
            refund_no=refund_no,
            refund_status=refund_status,
            id=id,
            remark=remark,
        )

        refund.additional_properties = d
        return refund

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
