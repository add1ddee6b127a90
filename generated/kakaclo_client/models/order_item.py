from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.country_code import CountryCode
from ..models.fulfillment_status import FulfillmentStatus
from ..models.item_refund_status import ItemRefundStatus
from ..models.stock_status import StockStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="OrderItem")


@_attrs_define
class OrderItem:
    """One order line. Its `id` is unique; `itemId` can repeat across lines
    of one order (same product, another SKU or warehouse). A refund names
    a line by `itemId` + `skuCode` + `countryCode`.

    """

    id: str
    """ The line's own unique id, a digit string. """
    item_id: None | str | Unset = UNSET
    """ The product's item id; several lines may share it. """
    sku_code: None | str | Unset = UNSET
    """ The SKU of the line. """
    product_name: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    image_url: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    option1: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    option2: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    option3: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    amount: float | None | Unset = UNSET
    """ A money amount in the order's currency, up to 4 decimals, sent as a
    JSON number. **The bound is not documented by the vendor**: each amount
    up to it is exact as a JSON number and as ten-thousandths in a 64-bit
    integer. Derived amounts keep to it too: a line's `total` (`amount` ×
    `productNum`), `subTotalAmount` and `finalAmount` (`subTotalAmount` +
    `freightAmount` − `couponAmount`; a larger coupon is refused), so
    `refundedAmount` and `refundableAmount` (0 to `finalAmount`).
     """
    product_num: int | None | Unset = UNSET
    """ Pieces ordered on this line. """
    total: float | None | Unset = UNSET
    """ A money amount in the order's currency, up to 4 decimals, sent as a
    JSON number. **The bound is not documented by the vendor**: each amount
    up to it is exact as a JSON number and as ten-thousandths in a 64-bit
    integer. Derived amounts keep to it too: a line's `total` (`amount` ×
    `productNum`), `subTotalAmount` and `finalAmount` (`subTotalAmount` +
    `freightAmount` − `couponAmount`; a larger coupon is refused), so
    `refundedAmount` and `refundableAmount` (0 to `finalAmount`).
     """
    promotion_amount: float | None | Unset = UNSET
    """ A money amount in the order's currency, up to 4 decimals, sent as a
    JSON number. **The bound is not documented by the vendor**: each amount
    up to it is exact as a JSON number and as ten-thousandths in a 64-bit
    integer. Derived amounts keep to it too: a line's `total` (`amount` ×
    `productNum`), `subTotalAmount` and `finalAmount` (`subTotalAmount` +
    `freightAmount` − `couponAmount`; a larger coupon is refused), so
    `refundedAmount` and `refundableAmount` (0 to `finalAmount`).
     """
    stock_status: None | StockStatus | Unset = UNSET
    fulfillment_status: FulfillmentStatus | None | Unset = UNSET
    refund_status: ItemRefundStatus | None | Unset = UNSET
    country_code: CountryCode | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        item_id: None | str | Unset
        if isinstance(self.item_id, Unset):
            item_id = UNSET
        else:
            item_id = self.item_id

        sku_code: None | str | Unset
        if isinstance(self.sku_code, Unset):
            sku_code = UNSET
        else:
            sku_code = self.sku_code

        product_name: None | str | Unset
        if isinstance(self.product_name, Unset):
            product_name = UNSET
        else:
            product_name = self.product_name

        image_url: None | str | Unset
        if isinstance(self.image_url, Unset):
            image_url = UNSET
        else:
            image_url = self.image_url

        option1: None | str | Unset
        if isinstance(self.option1, Unset):
            option1 = UNSET
        else:
            option1 = self.option1

        option2: None | str | Unset
        if isinstance(self.option2, Unset):
            option2 = UNSET
        else:
            option2 = self.option2

        option3: None | str | Unset
        if isinstance(self.option3, Unset):
            option3 = UNSET
        else:
            option3 = self.option3

        amount: float | None | Unset
        if isinstance(self.amount, Unset):
            amount = UNSET
        else:
            amount = self.amount

        product_num: int | None | Unset
        if isinstance(self.product_num, Unset):
            product_num = UNSET
        else:
            product_num = self.product_num

        total: float | None | Unset
        if isinstance(self.total, Unset):
            total = UNSET
        else:
            total = self.total

        promotion_amount: float | None | Unset
        if isinstance(self.promotion_amount, Unset):
            promotion_amount = UNSET
        else:
            promotion_amount = self.promotion_amount

        stock_status: None | str | Unset
        if isinstance(self.stock_status, Unset):
            stock_status = UNSET
        elif isinstance(self.stock_status, StockStatus):
            stock_status = self.stock_status.value
        else:
            stock_status = self.stock_status

        fulfillment_status: None | str | Unset
        if isinstance(self.fulfillment_status, Unset):
            fulfillment_status = UNSET
        elif isinstance(self.fulfillment_status, FulfillmentStatus):
            fulfillment_status = self.fulfillment_status.value
        else:
            fulfillment_status = self.fulfillment_status

        refund_status: None | str | Unset
        if isinstance(self.refund_status, Unset):
            refund_status = UNSET
        elif isinstance(self.refund_status, ItemRefundStatus):
            refund_status = self.refund_status.value
        else:
            refund_status = self.refund_status

        country_code: None | str | Unset
        if isinstance(self.country_code, Unset):
            country_code = UNSET
        elif isinstance(self.country_code, CountryCode):
            country_code = self.country_code.value
        else:
            country_code = self.country_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
            }
        )
        if item_id is not UNSET:
            field_dict["itemId"] = item_id
        if sku_code is not UNSET:
            field_dict["skuCode"] = sku_code
        if product_name is not UNSET:
            field_dict["productName"] = product_name
        if image_url is not UNSET:
            field_dict["imageUrl"] = image_url
        if option1 is not UNSET:
            field_dict["option1"] = option1
        if option2 is not UNSET:
            field_dict["option2"] = option2
        if option3 is not UNSET:
            field_dict["option3"] = option3
        if amount is not UNSET:
            field_dict["amount"] = amount
        if product_num is not UNSET:
            field_dict["productNum"] = product_num
        if total is not UNSET:
            field_dict["total"] = total
        if promotion_amount is not UNSET:
            field_dict["promotionAmount"] = promotion_amount
        if stock_status is not UNSET:
            field_dict["stockStatus"] = stock_status
        if fulfillment_status is not UNSET:
            field_dict["fulfillmentStatus"] = fulfillment_status
        if refund_status is not UNSET:
            field_dict["refundStatus"] = refund_status
        if country_code is not UNSET:
            field_dict["countryCode"] = country_code

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id")

        def _parse_item_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        item_id = _parse_item_id(d.pop("itemId", UNSET))

        def _parse_sku_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        sku_code = _parse_sku_code(d.pop("skuCode", UNSET))

        def _parse_product_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        product_name = _parse_product_name(d.pop("productName", UNSET))

        def _parse_image_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        image_url = _parse_image_url(d.pop("imageUrl", UNSET))

        def _parse_option1(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        option1 = _parse_option1(d.pop("option1", UNSET))

        def _parse_option2(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        option2 = _parse_option2(d.pop("option2", UNSET))

        def _parse_option3(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        option3 = _parse_option3(d.pop("option3", UNSET))

        def _parse_amount(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        amount = _parse_amount(d.pop("amount", UNSET))

        def _parse_product_num(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        product_num = _parse_product_num(d.pop("productNum", UNSET))

        def _parse_total(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        total = _parse_total(d.pop("total", UNSET))

        def _parse_promotion_amount(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        promotion_amount = _parse_promotion_amount(d.pop("promotionAmount", UNSET))

        def _parse_stock_status(data: object) -> None | StockStatus | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                stock_status_type_0 = StockStatus(data)

                return stock_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | StockStatus | Unset, data)

        stock_status = _parse_stock_status(d.pop("stockStatus", UNSET))

        def _parse_fulfillment_status(data: object) -> FulfillmentStatus | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                fulfillment_status_type_0 = FulfillmentStatus(data)

                return fulfillment_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FulfillmentStatus | None | Unset, data)

        fulfillment_status = _parse_fulfillment_status(
            d.pop("fulfillmentStatus", UNSET)
        )

        def _parse_refund_status(data: object) -> ItemRefundStatus | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                refund_status_type_0 = ItemRefundStatus(data)

                return refund_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ItemRefundStatus | None | Unset, data)

        refund_status = _parse_refund_status(d.pop("refundStatus", UNSET))

        def _parse_country_code(data: object) -> CountryCode | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                country_code_type_0 = CountryCode(data)

                return country_code_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CountryCode | None | Unset, data)

        country_code = _parse_country_code(d.pop("countryCode", UNSET))

        order_item = cls(
            id=id,
            item_id=item_id,
            sku_code=sku_code,
            product_name=product_name,
            image_url=image_url,
            option1=option1,
            option2=option2,
            option3=option3,
            amount=amount,
            product_num=product_num,
            total=total,
            promotion_amount=promotion_amount,
            stock_status=stock_status,
            fulfillment_status=fulfillment_status,
            refund_status=refund_status,
            country_code=country_code,
        )

        order_item.additional_properties = d
        return order_item

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
