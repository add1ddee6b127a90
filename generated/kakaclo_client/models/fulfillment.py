from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.fulfillment_record_status import FulfillmentRecordStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_item import OrderItem


T = TypeVar("T", bound="Fulfillment")


@_attrs_define
class Fulfillment:
    """One parcel of the order and the lines in it."""

    id: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    pack_id: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    status: FulfillmentRecordStatus | None | Unset = UNSET
    carrier: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    carrier_type: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    tracking_code: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    logistics_search_url: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    delivery_time: datetime.datetime | None | Unset = UNSET
    """ An instant in ISO 8601 (UTC `Z`), or null when it has not happened. """
    items: list[OrderItem] | None | Unset = UNSET
    """ The lines in this parcel. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id: None | str | Unset
        if isinstance(self.id, Unset):
            id = UNSET
        else:
            id = self.id

        pack_id: None | str | Unset
        if isinstance(self.pack_id, Unset):
            pack_id = UNSET
        else:
            pack_id = self.pack_id

        status: None | str | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        elif isinstance(self.status, FulfillmentRecordStatus):
            status = self.status.value
        else:
            status = self.status

        carrier: None | str | Unset
        if isinstance(self.carrier, Unset):
            carrier = UNSET
        else:
            carrier = self.carrier

        carrier_type: None | str | Unset
        if isinstance(self.carrier_type, Unset):
            carrier_type = UNSET
        else:
            carrier_type = self.carrier_type

        tracking_code: None | str | Unset
        if isinstance(self.tracking_code, Unset):
            tracking_code = UNSET
        else:
            tracking_code = self.tracking_code

        logistics_search_url: None | str | Unset
        if isinstance(self.logistics_search_url, Unset):
            logistics_search_url = UNSET
        else:
            logistics_search_url = self.logistics_search_url

        delivery_time: None | str | Unset
        if isinstance(self.delivery_time, Unset):
            delivery_time = UNSET
        elif isinstance(self.delivery_time, datetime.datetime):
            delivery_time = self.delivery_time.isoformat()
        else:
            delivery_time = self.delivery_time

        items: list[dict[str, Any]] | None | Unset
        if isinstance(self.items, Unset):
            items = UNSET
        elif isinstance(self.items, list):
            items = []
            for items_type_0_item_data in self.items:
                items_type_0_item = items_type_0_item_data.to_dict()
                items.append(items_type_0_item)

        else:
            items = self.items

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if id is not UNSET:
            field_dict["id"] = id
        if pack_id is not UNSET:
            field_dict["packId"] = pack_id
        if status is not UNSET:
            field_dict["status"] = status
        if carrier is not UNSET:
            field_dict["carrier"] = carrier
        if carrier_type is not UNSET:
            field_dict["carrierType"] = carrier_type
        if tracking_code is not UNSET:
            field_dict["trackingCode"] = tracking_code
        if logistics_search_url is not UNSET:
            field_dict["logisticsSearchUrl"] = logistics_search_url
        if delivery_time is not UNSET:
            field_dict["deliveryTime"] = delivery_time
        if items is not UNSET:
            field_dict["items"] = items

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.order_item import OrderItem

        d = dict(src_dict)

        def _parse_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        id = _parse_id(d.pop("id", UNSET))

        def _parse_pack_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        pack_id = _parse_pack_id(d.pop("packId", UNSET))

        def _parse_status(data: object) -> FulfillmentRecordStatus | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = FulfillmentRecordStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FulfillmentRecordStatus | None | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        def _parse_carrier(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        carrier = _parse_carrier(d.pop("carrier", UNSET))

        def _parse_carrier_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        carrier_type = _parse_carrier_type(d.pop("carrierType", UNSET))

        def _parse_tracking_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tracking_code = _parse_tracking_code(d.pop("trackingCode", UNSET))

        def _parse_logistics_search_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        logistics_search_url = _parse_logistics_search_url(
            d.pop("logisticsSearchUrl", UNSET)
        )

        def _parse_delivery_time(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                componentsschemas_nullable_date_time_type_0 = (
                    datetime.datetime.fromisoformat(data)
                )

                return componentsschemas_nullable_date_time_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        delivery_time = _parse_delivery_time(d.pop("deliveryTime", UNSET))

        def _parse_items(data: object) -> list[OrderItem] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                items_type_0 = []
                _items_type_0 = data
                for items_type_0_item_data in _items_type_0:
                    items_type_0_item = OrderItem.from_dict(items_type_0_item_data)

                    items_type_0.append(items_type_0_item)

                return items_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[OrderItem] | None | Unset, data)

        items = _parse_items(d.pop("items", UNSET))

        fulfillment = cls(
            id=id,
            pack_id=pack_id,
            status=status,
            carrier=carrier,
            carrier_type=carrier_type,
            tracking_code=tracking_code,
            logistics_search_url=logistics_search_url,
            delivery_time=delivery_time,
            items=items,
        )

        fulfillment.additional_properties = d
        return fulfillment

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
