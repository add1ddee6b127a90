"""Contains all the data models used in inputs/outputs"""

from .country_code import CountryCode
from .error import Error
from .error_code import ErrorCode
from .financial_status import FinancialStatus
from .fulfillment import Fulfillment
from .fulfillment_record_status import FulfillmentRecordStatus
from .fulfillment_status import FulfillmentStatus
from .item_refund_status import ItemRefundStatus
from .order import Order
from .order_item import OrderItem
from .order_page import OrderPage
from .order_refund_status import OrderRefundStatus
from .order_status import OrderStatus
from .query_order_response import QueryOrderResponse
from .query_refund_response import QueryRefundResponse
from .refund import Refund
from .refund_item import RefundItem
from .refund_order_response import RefundOrderResponse
from .refund_page import RefundPage
from .refund_reason import RefundReason
from .refund_request import RefundRequest
from .refund_status import RefundStatus
from .shipping_address import ShippingAddress
from .stock_status import StockStatus

__all__ = (
    "CountryCode",
    "Error",
    "ErrorCode",
    "FinancialStatus",
    "Fulfillment",
    "FulfillmentRecordStatus",
    "FulfillmentStatus",
    "ItemRefundStatus",
    "Order",
    "OrderItem",
    "OrderPage",
    "OrderRefundStatus",
    "OrderStatus",
    "QueryOrderResponse",
    "QueryRefundResponse",
    "Refund",
    "RefundItem",
    "RefundOrderResponse",
    "RefundPage",
    "RefundReason",
    "RefundRequest",
    "RefundStatus",
    "ShippingAddress",
    "StockStatus",
)
