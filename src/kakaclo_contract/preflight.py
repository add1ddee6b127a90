"""Before any test: is this URL the API, is the token accepted, is it a sandbox?

Each problem that means the suite cannot run raises :class:`PreflightFailed`
with one line naming the URL, what came back and what to fix. Anything else
(a wrong envelope, a 5xx, a hang of one operation) is left for the suite to
report as a contract violation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from kakaclo_client import spec_facts
from kakaclo_client.models import (
    ErrorCode,
    FinancialStatus,
    FulfillmentStatus,
    ItemRefundStatus,
    OrderStatus,
)

from kakaclo_contract.settings import TOKEN_ENV, RunSettings

QUERY_ORDERS = spec_facts.QUERY_ORDERS.path
SANDBOX_INFO = "/_sandbox/info"
SUCCESS = ErrorCode.SUCCESS
REFUNDABLE_STATE = {
    "financialStatus": FinancialStatus.PAID,
    "fulfillmentStatus": FulfillmentStatus.WAITING_TO_SHIP,
}
FINISHED_STATUSES = {OrderStatus.CANCEL, OrderStatus.COMPLETED}


class PreflightFailed(Exception):
    """The suite cannot run against this target; ``str()`` is the one line to print."""


@dataclass(frozen=True)
class RefundableLine:
    """An order line the suite may refund one piece of."""

    order_id: str
    item_id: str
    sku_code: str
    country_code: str

    def one_piece(self) -> dict[str, Any]:
        """The Refund Order item for one piece of this line."""
        return {
            "itemId": self.item_id,
            "skuCode": self.sku_code,
            "quantity": 1,
            "countryCode": self.country_code,
        }


@dataclass(frozen=True)
class TargetFacts:
    """What the preflight learnt about a URL target."""

    sandbox_info: dict[str, Any] | None
    refundable_lines: dict[str, tuple[RefundableLine, ...]] = field(default_factory=dict)
    # the orders named with --order-id as Query Order showed them before any refund
    refund_orders: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def is_sandbox(self) -> bool:
        """True when ``GET /_sandbox/info`` gave a well-formed sandbox answer."""
        return self.sandbox_info is not None


def _first_bytes(response: httpx.Response) -> str:
    text = response.content[:60].decode("utf-8", "replace").replace("\n", " ").strip()
    return repr(text + ("..." if len(response.content) > 60 else ""))


def _hint(base_url: str) -> str:
    if not httpx.URL(base_url).path.rstrip("/").endswith(spec_facts.SERVER_ROOT):
        return f"did you mean {base_url.rstrip('/')}/openapi?"
    return "is this the API's base URL (the server root that ends in /openapi)?"


def _describe(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return f"answered {response.status_code} {kind} {_first_bytes(response)}"


def _json(response: httpx.Response, *, any_content_type: bool = False) -> Any:
    """The JSON body; None when it is not JSON (or, unless asked, not labelled JSON)."""
    labelled = response.headers.get("content-type", "").startswith("application/json")
    if not (labelled or any_content_type):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _get(http: httpx.Client, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return http.get(url, **kwargs)
    except AssertionError as hung:  # traffic.TargetHung
        raise PreflightFailed(f"{url}: {hung}; is the server up and answering?") from None
    except httpx.ConnectError as error:
        raise PreflightFailed(
            f"cannot connect to {url}: {error or 'connection refused'}; is the server running "
            "and the host and port right?"
        ) from None
    except httpx.TransportError as error:
        raise PreflightFailed(f"{url}: {type(error).__name__}: {error}") from None


def check_api(http: httpx.Client, settings: RunSettings) -> None:
    """Query Order, the one read that needs no id, must answer the envelope and accept the token."""
    assert settings.base_url is not None
    url = settings.base_url + QUERY_ORDERS
    response = _get(
        http, url, params={"pageSize": 1}, headers={"Authorization": f"Bearer {settings.token}"}
    )
    # The API's envelope under a wrong content type is still the API: the suite reports
    # the content type as a contract violation, which is not a reason not to run.
    body = _json(response, any_content_type=True)
    is_envelope = isinstance(body, dict) and "code" in body
    if body is None or (not is_envelope and _json(response) is None):
        raise PreflightFailed(
            f"GET {url} {_describe(response)}: that is not the Kakaclo API's JSON; "
            + _hint(settings.base_url)
        )
    if response.status_code == 404 or (response.status_code == 405 and is_envelope):
        raise PreflightFailed(
            f"GET {url} {_describe(response)}: the API is not at this URL; "
            + _hint(settings.base_url)
        )
    if response.status_code in {401, 403}:
        raise PreflightFailed(
            f"GET {url} {_describe(response)}: the token was rejected; "
            f"check {TOKEN_ENV} (an access token of the merchant, without 'Bearer ')"
        )


def sandbox_info(http: httpx.Client, settings: RunSettings) -> dict[str, Any] | None:
    """The sandbox's ``/_sandbox/info`` data; None unless the answer is well formed."""
    assert settings.base_url is not None
    root = settings.base_url.rstrip("/").removesuffix(spec_facts.SERVER_ROOT)
    try:
        response = http.get(root + SANDBOX_INFO)
    except (httpx.TransportError, AssertionError):
        return None
    body = _json(response)
    if response.status_code != 200 or not isinstance(body, dict) or body.get("code") != SUCCESS:
        return None
    data = body.get("data")
    if not isinstance(data, dict) or data.get("sandbox") is not True:
        return None
    return data


def _refusal(order: dict[str, Any]) -> str | None:
    for key, wanted in REFUNDABLE_STATE.items():
        if order.get(key) != wanted:
            return f"its {key} is {order.get(key)!r}, not {wanted}"
    if order.get("status") in FINISHED_STATUSES:
        return f"its status is {order.get('status')!r}"
    if order.get("refundableAmount") == 0:
        return "nothing of it is left to refund (refundableAmount is 0)"
    return None


def refundable_lines(
    http: httpx.Client, settings: RunSettings
) -> tuple[dict[str, tuple[RefundableLine, ...]], dict[str, dict[str, Any]]]:
    """The lines of each order the user allowed, and the orders as Query Order shows them;
    each must qualify."""
    assert settings.base_url is not None
    url = settings.base_url + QUERY_ORDERS
    ids = ",".join(settings.refund_order_ids)
    response = _get(
        http,
        url,
        params={"ids": ids, "pageSize": spec_facts.PAGE_SIZE_MAXIMUM},
        headers={"Authorization": f"Bearer {settings.token}"},
    )
    body = _json(response)
    orders = (body or {}).get("data", {}) if response.status_code == 200 else None
    if not isinstance(orders, dict) or not isinstance(orders.get("list"), list):
        raise PreflightFailed(
            f"GET {url}?ids={ids} {_describe(response)}: cannot read the orders to refund"
        )
    found = {str(o.get("id")): o for o in orders["list"] if isinstance(o, dict)}
    lines: dict[str, tuple[RefundableLine, ...]] = {}
    for order_id in settings.refund_order_ids:
        order = found.get(order_id)
        if order is None:
            raise PreflightFailed(
                f"order {order_id} (--order-id) is not among this token's orders; name an order "
                "of the merchant the token belongs to"
            )
        why = _refusal(order)
        if why:
            raise PreflightFailed(f"order {order_id} (--order-id) cannot be refunded: {why}")
        candidates = tuple(
            RefundableLine(order_id, str(i["itemId"]), str(i["skuCode"]), str(i["countryCode"]))
            for i in order.get("orderItems") or []
            if isinstance(i, dict)
            and i.get("refundStatus") != ItemRefundStatus.REFUNDED
            and all(i.get(k) is not None for k in ("itemId", "skuCode", "countryCode"))
        )
        if not candidates:
            raise PreflightFailed(
                f"order {order_id} (--order-id) cannot be refunded: no line is left to refund"
            )
        lines[order_id] = candidates
    return lines, {order_id: found[order_id] for order_id in settings.refund_order_ids}


def run(http: httpx.Client, settings: RunSettings) -> TargetFacts:
    """All checks for a URL target, in order; the first problem stops the run."""
    check_api(http, settings)
    info = sandbox_info(http, settings)
    lines: dict[str, tuple[RefundableLine, ...]] = {}
    orders: dict[str, dict[str, Any]] = {}
    if info is None and settings.allow_refunds:
        lines, orders = refundable_lines(http, settings)
    return TargetFacts(sandbox_info=info, refundable_lines=lines, refund_orders=orders)
