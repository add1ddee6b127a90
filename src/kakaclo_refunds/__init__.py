"""kakaclo-refunds: a safe, typed layer over the generated Kakaclo refund client."""

from kakaclo_refunds._core import Item
from kakaclo_refunds.async_client import AsyncKakacloClient
from kakaclo_refunds.client import KakacloClient
from kakaclo_refunds.errors import (
    AnswerRefusedError,
    ApiError,
    AuthError,
    ConflictError,
    IdempotencyConflictError,
    KakacloError,
    KakacloTimeoutError,
    NotFoundError,
    QuantityExceededError,
    RateLimitedError,
    Reconciliation,
    RefundNotAllowedError,
    RefundOutcomeUnknownError,
    RefundWaitTimeout,
    RequestInfo,
    RequestTimeoutError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from kakaclo_refunds.orders import Address, Option, Order, OrderLine, Parcel, clean_order
from kakaclo_refunds.retry import RetryNotice, RetryPolicy

__all__ = [
    "Address",
    "AnswerRefusedError",
    "ApiError",
    "AsyncKakacloClient",
    "AuthError",
    "ConflictError",
    "IdempotencyConflictError",
    "Item",
    "KakacloClient",
    "KakacloError",
    "KakacloTimeoutError",
    "NotFoundError",
    "Option",
    "Order",
    "OrderLine",
    "Parcel",
    "QuantityExceededError",
    "RateLimitedError",
    "Reconciliation",
    "RefundNotAllowedError",
    "RefundOutcomeUnknownError",
    "RefundWaitTimeout",
    "RequestInfo",
    "RequestTimeoutError",
    "RetryNotice",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UnexpectedResponseError",
    "ValidationError",
    "clean_order",
]
