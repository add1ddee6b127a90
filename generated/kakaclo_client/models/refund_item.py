from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

from ..models.country_code import CountryCode

T = TypeVar("T", bound="RefundItem")


@_attrs_define
class RefundItem:
    """Some pieces of one order line. The line is named by `itemId` + `skuCode` + `countryCode`."""

    item_id: str
    """ The line's `itemId` from Query Order (lines of one order can share it). """
    sku_code: str
    """ The line's `skuCode` from Query Order. """
    quantity: int
    """ How many pieces of the line to refund. """
    country_code: CountryCode
    """ The warehouse that ships the SKU, as Query Order reports it; `CN` for the Chinese warehouse, `US` for the
    overseas warehouse. """

    def to_dict(self) -> dict[str, Any]:
        item_id = self.item_id

        sku_code = self.sku_code

        quantity = self.quantity

        country_code = self.country_code.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "itemId": item_id,
                "skuCode": sku_code,
                "quantity": quantity,
                "countryCode": country_code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        item_id = d.pop("itemId")

        sku_code = d.pop("skuCode")

        quantity = d.pop("quantity")

        country_code = CountryCode(d.pop("countryCode"))

        refund_item = cls(
            item_id=item_id,
            sku_code=sku_code,
            quantity=quantity,
            country_code=country_code,
        )

        return refund_item
