from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.financial_status import FinancialStatus
from ..models.fulfillment_status import FulfillmentStatus
from ..models.order_refund_status import OrderRefundStatus
from ..models.order_status import OrderStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.fulfillment import Fulfillment
    from ..models.order_item import OrderItem
    from ..models.shipping_address import ShippingAddress


T = TypeVar("T", bound="Order")


@_attrs_define
class Order:
    """An order. The real service sends many fields as null, some status
    fields as the string `NULL`, and keys this spec does not list; all
    are accepted and kept. Amounts: `finalAmount` = `subTotalAmount` +
    `freightAmount` − `couponAmount`; `refundableAmount` = `finalAmount` −
    `refundedAmount`.

    **Money rule** (the vendor documents none; this spec settles it):
    `refundedAmount` is the sum of the amounts of the pieces whose refunds
    settled successfully, never above `finalAmount`, as long as some piece
    is not refunded. When a refund settles and no piece is left
    unrefunded, `refundedAmount` becomes exactly `finalAmount`: the rest
    (freight, coupon, promotion, whatever its sign) goes with that refund.
    Nothing is decided when a refund is created, so a refund that fails
    never leaves another holding the freight: `refundedAmount` is a
    function of the settled pieces alone.

    **The forms of the real service.** Its real bodies show these, and
    `kakaclo-sandbox` sends them too:

    - `completedDate` is the instant the payment completed, equal to
      `payDate` in every real body, not the instant the order completed.
    - `option1` to `option3` of a line are JSON objects
      `{"name": ..., "value": ...}` encoded inside a string, or null.

    These three the sandbox sends only in its default, vendor-shaped mode
    (`kakaclo-sandbox --clean` sends plain nulls and every field):

    - `refundStatus`, of the order and of each line, is the string `NULL`
      while nothing of it is refunding or refunded.
    - One rule settles where the vendor's field table and its real bodies
      disagree: a field of the table is sent unless a real body shows that
      the vendor leaves it out in that state. `currencyCode`,
      `couponAmount`, `promotionAmount`, `refundedAmount`,
      `refundableAmount` and the lines' `stockStatus` and
      `fulfillmentStatus` are in no real body of an order whose
      `refundStatus` is `NULL`, so they are left out of such orders and
      sent once the order has a refund. A client must not count on them.
    - The lines inside `fulfillments` come without `countryCode`, and a
      line whose warehouse the service does not report (the real fully
      shipped body) comes without it too.

    """

    id: str
    """ The order id, a digit string. """
    custom_order_id: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    remark: None | str | Unset = UNSET
    """ A text the real service may send as null. """
    status: None | OrderStatus | Unset = UNSET
    financial_status: FinancialStatus | None | Unset = UNSET
    fulfillment_status: FulfillmentStatus | None | Unset = UNSET
    refund_status: None | OrderRefundStatus | Unset = UNSET
    purchase_date: datetime.datetime | None | Unset = UNSET
    """ An instant in ISO 8601 (UTC `Z`), or null when it has not happened. """
    pay_date: datetime.datetime | None | Unset = UNSET
    """ An instant in ISO 8601 (UTC `Z`), or null when it has not happened. """
    completed_date: datetime.datetime | None | Unset = UNSET
    """ An instant in ISO 8601 (UTC `Z`), or null when it has not happened. """
    cancel_date: datetime.datetime | None | Unset = UNSET
    """ An instant in ISO 8601 (UTC `Z`), or null when it has not happened. """
    refund_date: datetime.datetime | None | Unset = UNSET
    """ An instant in ISO 8601 (UTC `Z`), or null when it has not happened. """
    create_date: datetime.datetime | None | Unset = UNSET
    """ An instant in ISO 8601 (UTC `Z`), or null when it has not happened. """
    modify_date: datetime.datetime | None | Unset = UNSET
    """ An instant in ISO 8601 (UTC `Z`), or null when it has not happened. """
    warehouse_id: int | None | Unset = UNSET
    """ The warehouse the order ships from. """
    currency_code: None | str | Unset = UNSET
    """ The currency of every amount; `USD`. """
    sub_total_amount: float | None | Unset = UNSET
    """ A money amount in the order's currency, up to 4 decimals, sent as a
    JSON number. **The bound is not documented by the vendor**: each amount
    up to it is exact as a JSON number and as ten-thousandths in a 64-bit
    integer. Derived amounts keep to it too: a line's `total` (`amount` ×
    `productNum`), `subTotalAmount` and `finalAmount` (`subTotalAmount` +
    `freightAmount` − `couponAmount`; a larger coupon is refused), so
    `refundedAmount` and `refundableAmount` (0 to `finalAmount`).
     """
    freight_amount: float | None | Unset = UNSET
    """ A money amount in the order's currency, up to 4 decimals, sent as a
    JSON number. **The bound is not documented by the vendor**: each amount
    up to it is exact as a JSON number and as ten-thousandths in a 64-bit
    integer. Derived amounts keep to it too: a line's `total` (`amount` ×
    `productNum`), `subTotalAmount` and `finalAmount` (`subTotalAmount` +
    `freightAmount` − `couponAmount`; a larger coupon is refused), so
    `refundedAmount` and `refundableAmount` (0 to `finalAmount`).
     """
    coupon_amount: float | None | Unset = UNSET
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
    final_amount: float | None | Unset = UNSET
    """ A money amount in the order's currency, up to 4 decimals, sent as a
    JSON number. **The bound is not documented by the vendor**: each amount
    up to it is exact as a JSON number and as ten-thousandths in a 64-bit
    integer. Derived amounts keep to it too: a line's `total` (`amount` ×
    `productNum`), `subTotalAmount` and `finalAmount` (`subTotalAmount` +
    `freightAmount` − `couponAmount`; a larger coupon is refused), so
    `refundedAmount` and `refundableAmount` (0 to `finalAmount`).
     """
    refunded_amount: float | None | Unset = UNSET
    """ A money amount in the order's currency, up to 4 decimals, sent as a
    JSON number. **The bound is not documented by the vendor**: each amount
    up to it is exact as a JSON number and as ten-thousandths in a 64-bit
    integer. Derived amounts keep to it too: a line's `total` (`amount` ×
    `productNum`), `subTotalAmount` and `finalAmount` (`subTotalAmount` +
    `freightAmount` − `couponAmount`; a larger coupon is refused), so
    `refundedAmount` and `refundableAmount` (0 to `finalAmount`).
     """
    refundable_amount: float | None | Unset = UNSET
    """ A money amount in the order's currency, up to 4 decimals, sent as a
    JSON number. **The bound is not documented by the vendor**: each amount
    up to it is exact as a JSON number and as ten-thousandths in a 64-bit
    integer. Derived amounts keep to it too: a line's `total` (`amount` ×
    `productNum`), `subTotalAmount` and `finalAmount` (`subTotalAmount` +
    `freightAmount` − `couponAmount`; a larger coupon is refused), so
    `refundedAmount` and `refundableAmount` (0 to `finalAmount`).
     """
    shipping_address: None | ShippingAddress | Unset = UNSET
    fulfillments: list[Fulfillment] | None | Unset = UNSET
    """ The parcels of the order; null before anything ships. """
    order_items: list[OrderItem] | None | Unset = UNSET
    """ The order lines. """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.shipping_address import ShippingAddress

        id = self.id

        custom_order_id: None | str | Unset
        if isinstance(self.custom_order_id, Unset):
            custom_order_id = UNSET
        else:
            custom_order_id = self.custom_order_id

        remark: None | str | Unset
        if isinstance(self.remark, Unset):
            remark = UNSET
        else:
            remark = self.remark

        status: None | str | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        elif isinstance(self.status, OrderStatus):
            status = self.status.value
        else:
            status = self.status

        financial_status: None | str | Unset
        if isinstance(self.financial_status, Unset):
            financial_status = UNSET
        elif isinstance(self.financial_status, FinancialStatus):
            financial_status = self.financial_status.value
        else:
            financial_status = self.financial_status

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
        elif isinstance(self.refund_status, OrderRefundStatus):
            refund_status = self.refund_status.value
        else:
            refund_status = self.refund_status

        purchase_date: None | str | Unset
        if isinstance(self.purchase_date, Unset):
            purchase_date = UNSET
        elif isinstance(self.purchase_date, datetime.datetime):
            purchase_date = self.purchase_date.isoformat()
        else:
            purchase_date = self.purchase_date

        pay_date: None | str | Unset
        if isinstance(self.pay_date, Unset):
            pay_date = UNSET
        elif isinstance(self.pay_date, datetime.datetime):
            pay_date = self.pay_date.isoformat()
        else:
            pay_date = self.pay_date

        completed_date: None | str | Unset
        if isinstance(self.completed_date, Unset):
            completed_date = UNSET
        elif isinstance(self.completed_date, datetime.datetime):
            completed_date = self.completed_date.isoformat()
        else:
            completed_date = self.completed_date

        cancel_date: None | str | Unset
        if isinstance(self.cancel_date, Unset):
            cancel_date = UNSET
        elif isinstance(self.cancel_date, datetime.datetime):
            cancel_date = self.cancel_date.isoformat()
        else:
            cancel_date = self.cancel_date

        refund_date: None | str | Unset
        if isinstance(self.refund_date, Unset):
            refund_date = UNSET
        elif isinstance(self.refund_date, datetime.datetime):
            refund_date = self.refund_date.isoformat()
        else:
            refund_date = self.refund_date

        create_date: None | str | Unset
        if isinstance(self.create_date, Unset):
            create_date = UNSET
        elif isinstance(self.create_date, datetime.datetime):
            create_date = self.create_date.isoformat()
        else:
            create_date = self.create_date

        modify_date: None | str | Unset
        if isinstance(self.modify_date, Unset):
            modify_date = UNSET
        elif isinstance(self.modify_date, datetime.datetime):
            modify_date = self.modify_date.isoformat()
        else:
            modify_date = self.modify_date

        warehouse_id: int | None | Unset
        if isinstance(self.warehouse_id, Unset):
            warehouse_id = UNSET
        else:
            warehouse_id = self.warehouse_id

        currency_code: None | str | Unset
        if isinstance(self.currency_code, Unset):
            currency_code = UNSET
        else:
            currency_code = self.currency_code

        sub_total_amount: float | None | Unset
        if isinstance(self.sub_total_amount, Unset):
            sub_total_amount = UNSET
        else:
            sub_total_amount = self.sub_total_amount

        freight_amount: float | None | Unset
        if isinstance(self.freight_amount, Unset):
            freight_amount = UNSET
        else:
            freight_amount = self.freight_amount

        coupon_amount: float | None | Unset
        if isinstance(self.coupon_amount, Unset):
            coupon_amount = UNSET
        else:
            coupon_amount = self.coupon_amount

        promotion_amount: float | None | Unset
        if isinstance(self.promotion_amount, Unset):
            promotion_amount = UNSET
        else:
            promotion_amount = self.promotion_amount

        final_amount: float | None | Unset
        if isinstance(self.final_amount, Unset):
            final_amount = UNSET
        else:
            final_amount = self.final_amount

        refunded_amount: float | None | Unset
        if isinstance(self.refunded_amount, Unset):
            refunded_amount = UNSET
        else:
            refunded_amount = self.refunded_amount

        refundable_amount: float | None | Unset
        if isinstance(self.refundable_amount, Unset):
            refundable_amount = UNSET
        else:
            refundable_amount = self.refundable_amount

        shipping_address: dict[str, Any] | None | Unset
        if isinstance(self.shipping_address, Unset):
            shipping_address = UNSET
        elif isinstance(self.shipping_address, ShippingAddress):
            shipping_address = self.shipping_address.to_dict()
        else:
            shipping_address = self.shipping_address

        fulfillments: list[dict[str, Any]] | None | Unset
        if isinstance(self.fulfillments, Unset):
            fulfillments = UNSET
        elif isinstance(self.fulfillments, list):
            fulfillments = []
            for fulfillments_type_0_item_data in self.fulfillments:
                fulfillments_type_0_item = fulfillments_type_0_item_data.to_dict()
                fulfillments.append(fulfillments_type_0_item)

        else:
            fulfillments = self.fulfillments

        order_items: list[dict[str, Any]] | None | Unset
        if isinstance(self.order_items, Unset):
            order_items = UNSET
        elif isinstance(self.order_items, list):
            order_items = []
            for order_items_type_0_item_data in self.order_items:
                order_items_type_0_item = order_items_type_0_item_data.to_dict()
                order_items.append(order_items_type_0_item)

        else:
            order_items = self.order_items

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
            }
        )
        if custom_order_id is not UNSET:
            field_dict["customOrderId"] = custom_order_id
        if remark is not UNSET:
            field_dict["remark"] = remark
        if status is not UNSET:
            field_dict["status"] = status
        if financial_status is not UNSET:
            field_dict["financialStatus"] = financial_status
        if fulfillment_status is not UNSET:
            field_dict["fulfillmentStatus"] = fulfillment_status
        if refund_status is not UNSET:
            field_dict["refundStatus"] = refund_status
        if purchase_date is not UNSET:
            field_dict["purchaseDate"] = purchase_date
        if pay_date is not UNSET:
            field_dict["payDate"] = pay_date
        if completed_date is not UNSET:
            field_dict["completedDate"] = completed_date
        if cancel_date is not UNSET:
            field_dict["cancelDate"] = cancel_date
        if refund_date is not UNSET:
            field_dict["refundDate"] = refund_date
        if create_date is not UNSET:
            field_dict["createDate"] = create_date
        if modify_date is not UNSET:
            field_dict["modifyDate"] = modify_date
        if warehouse_id is not UNSET:
            field_dict["warehouseId"] = warehouse_id
        if currency_code is not UNSET:
            field_dict["currencyCode"] = currency_code
        if sub_total_amount is not UNSET:
            field_dict["subTotalAmount"] = sub_total_amount
        if freight_amount is not UNSET:
            field_dict["freightAmount"] = freight_amount
        if coupon_amount is not UNSET:
            field_dict["couponAmount"] = coupon_amount
        if promotion_amount is not UNSET:
            field_dict["promotionAmount"] = promotion_amount
        if final_amount is not UNSET:
            field_dict["finalAmount"] = final_amount
        if refunded_amount is not UNSET:
            field_dict["refundedAmount"] = refunded_amount
        if refundable_amount is not UNSET:
            field_dict["refundableAmount"] = refundable_amount
        if shipping_address is not UNSET:
            field_dict["shippingAddress"] = shipping_address
        if fulfillments is not UNSET:
            field_dict["fulfillments"] = fulfillments
        if order_items is not UNSET:
            field_dict["orderItems"] = order_items

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.fulfillment import Fulfillment
        from ..models.order_item import OrderItem
        from ..models.shipping_address import ShippingAddress

        d = dict(src_dict)
        id = d.pop("id")

        def _parse_custom_order_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        custom_order_id = _parse_custom_order_id(d.pop("customOrderId", UNSET))

        def _parse_remark(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        remark = _parse_remark(d.pop("remark", UNSET))

        def _parse_status(data: object) -> None | OrderStatus | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = OrderStatus(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OrderStatus | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        def _parse_financial_status(data: object) -> FinancialStatus | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                financial_status_type_0 = FinancialStatus(data)

                return financial_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FinancialStatus | None | Unset, data)

        financial_status = _parse_financial_status(d.pop("financialStatus", UNSET))

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

        def _parse_refund_status(data: object) -> None | OrderRefundStatus | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                refund_status_type_0 = OrderRefundStatus(data)

                return refund_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OrderRefundStatus | Unset, data)

        refund_status = _parse_refund_status(d.pop("refundStatus", UNSET))

        def _parse_purchase_date(data: object) -> datetime.datetime | None | Unset:
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

        purchase_date = _parse_purchase_date(d.pop("purchaseDate", UNSET))

        def _parse_pay_date(data: object) -> datetime.datetime | None | Unset:
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

        pay_date = _parse_pay_date(d.pop("payDate", UNSET))

        def _parse_completed_date(data: object) -> datetime.datetime | None | Unset:
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

        completed_date = _parse_completed_date(d.pop("completedDate", UNSET))

        def _parse_cancel_date(data: object) -> datetime.datetime | None | Unset:
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

        cancel_date = _parse_cancel_date(d.pop("cancelDate", UNSET))

        def _parse_refund_date(data: object) -> datetime.datetime | None | Unset:
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

        refund_date = _parse_refund_date(d.pop("refundDate", UNSET))

        def _parse_create_date(data: object) -> datetime.datetime | None | Unset:
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

        create_date = _parse_create_date(d.pop("createDate", UNSET))

        def _parse_modify_date(data: object) -> datetime.datetime | None | Unset:
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

        modify_date = _parse_modify_date(d.pop("modifyDate", UNSET))

        def _parse_warehouse_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        warehouse_id = _parse_warehouse_id(d.pop("warehouseId", UNSET))

        def _parse_currency_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        currency_code = _parse_currency_code(d.pop("currencyCode", UNSET))

        def _parse_sub_total_amount(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        sub_total_amount = _parse_sub_total_amount(d.pop("subTotalAmount", UNSET))

        def _parse_freight_amount(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        freight_amount = _parse_freight_amount(d.pop("freightAmount", UNSET))

        def _parse_coupon_amount(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        coupon_amount = _parse_coupon_amount(d.pop("couponAmount", UNSET))

        def _parse_promotion_amount(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        promotion_amount = _parse_promotion_amount(d.pop("promotionAmount", UNSET))

        def _parse_final_amount(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        final_amount = _parse_final_amount(d.pop("finalAmount", UNSET))

        def _parse_refunded_amount(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        refunded_amount = _parse_refunded_amount(d.pop("refundedAmount", UNSET))

        def _parse_refundable_amount(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        refundable_amount = _parse_refundable_amount(d.pop("refundableAmount", UNSET))

        def _parse_shipping_address(data: object) -> None | ShippingAddress | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                shipping_address_type_0 = ShippingAddress.from_dict(data)

                return shipping_address_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ShippingAddress | Unset, data)

        shipping_address = _parse_shipping_address(d.pop("shippingAddress", UNSET))

        def _parse_fulfillments(data: object) -> list[Fulfillment] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                fulfillments_type_0 = []
                _fulfillments_type_0 = data
                for fulfillments_type_0_item_data in _fulfillments_type_0:
                    fulfillments_type_0_item = Fulfillment.from_dict(
                        fulfillments_type_0_item_data
                    )

                    fulfillments_type_0.append(fulfillments_type_0_item)

                return fulfillments_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Fulfillment] | None | Unset, data)

        fulfillments = _parse_fulfillments(d.pop("fulfillments", UNSET))

        def _parse_order_items(data: object) -> list[OrderItem] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                order_items_type_0 = []
                _order_items_type_0 = data
                for order_items_type_0_item_data in _order_items_type_0:
                    order_items_type_0_item = OrderItem.from_dict(
                        order_items_type_0_item_data
                    )

                    order_items_type_0.append(order_items_type_0_item)

                return order_items_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[OrderItem] | None | Unset, data)

        order_items = _parse_order_items(d.pop("orderItems", UNSET))

        order = cls(
            id=id,
            custom_order_id=custom_order_id,
            remark=remark,
            status=status,
            financial_status=financial_status,
            fulfillment_status=fulfillment_status,
            refund_status=refund_status,
            purchase_date=purchase_date,
            pay_date=pay_date,
            completed_date=completed_date,
            cancel_date=cancel_date,
            refund_date=refund_date,
            create_date=create_date,
            modify_date=modify_date,
            warehouse_id=warehouse_id,
            currency_code=currency_code,
            sub_total_amount=sub_total_amount,
            freight_amount=freight_amount,
            coupon_amount=coupon_amount,
            promotion_amount=promotion_amount,
            final_amount=final_amount,
            refunded_amount=refunded_amount,
            refundable_amount=refundable_amount,
            shipping_address=shipping_address,
            fulfillments=fulfillments,
            order_items=order_items,
        )

        order.additional_properties = d
        return order

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
