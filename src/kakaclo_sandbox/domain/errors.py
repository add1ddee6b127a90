"""How the refund rules refuse a request; the web layer turns each into its answer."""

from __future__ import annotations

from kakaclo_client.models import ErrorCode


class RuleViolation(Exception):
    """A schema-valid request that breaks a business or idempotency rule (answered 409)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class OrderNotFound(Exception):
    """No order with this id belongs to the caller (answered 404)."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id
