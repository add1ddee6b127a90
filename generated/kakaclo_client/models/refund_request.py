from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.refund_reason import RefundReason
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.refund_item import RefundItem


T = TypeVar("T", bound="RefundRequest")


@_attrs_define
class RefundRequest:
    """The body of Refund Order. Every field is optional; `{}` refunds the whole order with reason `Other`."""

    remark: str | Unset = UNSET
    """ A free-text remark kept with the refund (the vendor documents no limit; this spec bounds it at 500
    characters). """
    refund_reason: RefundReason | Unset = UNSET
    """ Why the order is refunded. A refund that names none has reason `Other`, the vendor's default (see
    `RefundRequest.refundReason`). """
    order_items: list[RefundItem] | Unset = UNSET
    """ The lines and quantities to refund. Absent means the whole remaining order. """

    def to_dict(self) -> dict[str, Any]:
        remark = self.remark

        refund_reason: str | Unset = UNSET
        if not isinstance(self.refund_reason, Unset):
            refund_reason = self.refund_reason.value

        order_items: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.order_items, Unset):
            order_items = []
            for order_items_item_data in self.order_items:
                order_items_item = order_items_item_data.to_dict()
                order_items.append(order_items_item)

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if remark is not UNSET:
            field_dict["remark"] = remark
        if refund_reason is not UNSET:
            field_dict["refundReason"] = refund_reason
        if order_items is not UNSET:
            field_dict["orderItems"] = order_items

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.refund_item import RefundItem

        d = dict(src_dict)
        remark = d.pop("remark", UNSET)

        _refund_reason = d.pop("refundReason", UNSET)
        refund_reason: RefundReason | Unset
        if isinstance(_refund_reason, Unset):
            refund_reason = UNSET
        else:
            refund_reason = RefundReason(_refund_reason)

        _order_items = d.pop("orderItems", UNSET)
        order_items: list[RefundItem] | Unset = UNSET
        if _order_items is not UNSET:
            order_items = []
            for order_items_item_data in _order_items:
                order_items_item = RefundItem.from_dict(order_items_item_data)

                order_items.append(order_items_item)

        refund_request = cls(
            remark=remark,
            refund_reason=refund_reason,
            order_items=order_items,
        )

        return refund_request
