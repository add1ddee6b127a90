"""Facts of openapi.yaml that the generated models do not carry.

Written by tools/codegen.py with the rest of this package; never edit by hand.
"""

from typing import NamedTuple


class Operation(NamedTuple):
    """One operation of the spec."""

    operation_id: str
    method: str
    path: str


SERVER_ROOT = '/openapi'
REFUND_ORDER = Operation('refundOrder', 'POST', '/openapi/v2/order/orders/{id}/refund')
QUERY_REFUND = Operation('queryRefund', 'GET', '/openapi/v2/order/orders/refund/{id}')
QUERY_ORDERS = Operation('queryOrders', 'GET', '/openapi/v2/order/orders')
OPERATIONS = (REFUND_ORDER, QUERY_REFUND, QUERY_ORDERS,)
PAGE_NUMBER_DEFAULT = 1
PAGE_NUMBER_MAXIMUM = 1000000
PAGE_SIZE_DEFAULT = 10
PAGE_SIZE_MAXIMUM = 250
ORDER_ID_PATTERN = '^[0-9]{1,20}$'
IDEMPOTENCY_KEY_PATTERN = '^[A-Za-z0-9._:-]{1,255}$'
DEFAULT_REFUND_REASON = 'Other'
RATE_LIMIT_BURST = 120
RATE_LIMIT_PER_SECOND = 2.0
