from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order import Order


T = TypeVar("T", bound="OrderPage")


@_attrs_define
class OrderPage:
    """A page of orders. The real service adds the keys `vo`,
    `totalPageNumber`, `modifyDate` and `nextId`, null in every real body;
    they are kept. `kakaclo-sandbox` sends them null too (not with
    `--clean`). Query Refund's page has no such keys.

    **Paging rules:** every page of one listing answers the same
    `total`; `pageNumber` and `pageSize` echo the request (its defaults
    when left out); page *n* lists min(`pageSize`, `total` − (*n* − 1) ×
    `pageSize`) orders, none on a page past the last; no order appears on
    two pages, and the pages together list `total` orders.

    """

    total: int
    """ All matching orders, over every page. """
    page_number: int
    """ This page, counting from 1. """
    page_size: int
    """ The page size asked for. """
    list_: list[Order]
    """ The orders on this page. """
    vo: Any | Unset = UNSET
    """ Sent by the real service, null in every real body; its type is unknown. """
    total_page_number: Any | Unset = UNSET
    """ Sent by the real service, null in every real body; its type is unknown. """
    modify_date: Any | Unset = UNSET
    """ Sent by the real service, null in every real body; its type is unknown. """
    next_id: Any | Unset = UNSET
    """ Sent by the real service, null in every real body; its type is unknown. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        total = self.total

        page_number = self.page_number

        page_size = self.page_size

        list_ = []
        for list_item_data in self.list_:
            list_item = list_item_data.to_dict()
            list_.append(list_item)

        vo = self.vo

        total_page_number = self.total_page_number

        modify_date = self.modify_date

        next_id = self.next_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "total": total,
                "pageNumber": page_number,
                "pageSize": page_size,
                "list": list_,
            }
        )
        if vo is not UNSET:
            field_dict["vo"] = vo
        if total_page_number is not UNSET:
            field_dict["totalPageNumber"] = total_page_number
        if modify_date is not UNSET:
            field_dict["modifyDate"] = modify_date
        if next_id is not UNSET:
            field_dict["nextId"] = next_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order import Order

        d = dict(src_dict)
        total = d.pop("total")

        page_number = d.pop("pageNumber")

        page_size = d.pop("pageSize")

        list_ = []
        _list_ = d.pop("list")
        for list_item_data in _list_:
            list_item = Order.from_dict(list_item_data)

            list_.append(list_item)

        vo = d.pop("vo", UNSET)

        total_page_number = d.pop("totalPageNumber", UNSET)

        modify_date = d.pop("modifyDate", UNSET)

        next_id = d.pop("nextId", UNSET)

        order_page = cls(
            total=total,
            page_number=page_number,
            page_size=page_size,
            list_=list_,
            vo=vo,
            total_page_number=total_page_number,
            modify_date=modify_date,
            next_id=next_id,
        )

        order_page.additional_properties = d
        return order_page

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
