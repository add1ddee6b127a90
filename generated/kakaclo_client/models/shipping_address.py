from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ShippingAddress")


@_attrs_define
class ShippingAddress:
    """Where the order ships. The real service sends unknown parts as null."""

    country: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    province: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    city: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    street1: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    street2: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    zip_: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    recipient: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    phone: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    vat: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    ioss: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        country: None | str | Unset
        if isinstance(self.country, Unset):
            country = UNSET
        else:
            country = self.country

        province: None | str | Unset
        if isinstance(self.province, Unset):
            province = UNSET
        else:
            province = self.province

        city: None | str | Unset
        if isinstance(self.city, Unset):
            city = UNSET
        else:
            city = self.city

        street1: None | str | Unset
        if isinstance(self.street1, Unset):
            street1 = UNSET
        else:
            street1 = self.street1

        street2: None | str | Unset
        if isinstance(self.street2, Unset):
            street2 = UNSET
        else:
            street2 = self.street2

        zip_: None | str | Unset
        if isinstance(self.zip_, Unset):
            zip_ = UNSET
        else:
            zip_ = self.zip_

        recipient: None | str | Unset
        if isinstance(self.recipient, Unset):
            recipient = UNSET
        else:
            recipient = self.recipient

        phone: None | str | Unset
        if isinstance(self.phone, Unset):
            phone = UNSET
        else:
            phone = self.phone

        vat: None | str | Unset
        if isinstance(self.vat, Unset):
            vat = UNSET
        else:
            vat = self.vat

        ioss: None | str | Unset
        if isinstance(self.ioss, Unset):
            ioss = UNSET
        else:
            ioss = self.ioss

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if country is not UNSET:
            field_dict["country"] = country
        if province is not UNSET:
            field_dict["province"] = province
        if city is not UNSET:
            field_dict["city"] = city
        if street1 is not UNSET:
            field_dict["street1"] = street1
        if street2 is not UNSET:
            field_dict["street2"] = street2
        if zip_ is not UNSET:
            field_dict["zip"] = zip_
        if recipient is not UNSET:
            field_dict["recipient"] = recipient
        if phone is not UNSET:
            field_dict["phone"] = phone
        if vat is not UNSET:
            field_dict["vat"] = vat
        if ioss is not UNSET:
            field_dict["ioss"] = ioss

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_country(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        country = _parse_country(d.pop("country", UNSET))

        def _parse_province(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        province = _parse_province(d.pop("province", UNSET))

        def _parse_city(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        city = _parse_city(d.pop("city", UNSET))

        def _parse_street1(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        street1 = _parse_street1(d.pop("street1", UNSET))

        def _parse_street2(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        street2 = _parse_street2(d.pop("street2", UNSET))

        def _parse_zip_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        zip_ = _parse_zip_(d.pop("zip", UNSET))

        def _parse_recipient(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        recipient = _parse_recipient(d.pop("recipient", UNSET))

        def _parse_phone(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        phone = _parse_phone(d.pop("phone", UNSET))

        def _parse_vat(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        vat = _parse_vat(d.pop("vat", UNSET))

        def _parse_ioss(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ioss = _parse_ioss(d.pop("ioss", UNSET))

        shipping_address = cls(
            country=country,
            province=province,
            city=city,
            street1=street1,
            street2=street2,
            zip_=zip_,
            recipient=recipient,
            phone=phone,
            vat=vat,
            ioss=ioss,
        )

        shipping_address.additional_properties = d
        return shipping_address

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
