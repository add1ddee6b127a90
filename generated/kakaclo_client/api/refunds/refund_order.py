from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.refund_order_response import RefundOrderResponse
from ...models.refund_request import RefundRequest
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    body: RefundRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/openapi/v2/order/orders/{id}/refund".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | RefundOrderResponse | None:
    if response.status_code == 200:
        response_200 = RefundOrderResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = Error.from_dict(response.json())

        return response_500

    if response.status_code == 502:
        response_502 = Error.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | RefundOrderResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RefundRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | RefundOrderResponse]:
    """Refund Order

     Cancels the order, or the given pieces of some of its lines, and
    refunds them. Allowed only while the order has not shipped.

    The operation is asynchronous: it creates a refund request and answers
    its refund number in `data`; follow it with Query Refund. The status
    settles usually within 1 hour, at most within 24 hours.

    - Without `orderItems` the whole remaining quantity of the order is
      refunded.
    - With `orderItems`, each item names one order line by `itemId` +
      `skuCode` + `countryCode` (lines of one order can share an
      `itemId`) and refunds `quantity` pieces of it.

    Business rules (the vendor does not document how it reports them;
    this spec answers 409 with the codes listed under that response): the
    order must be paid and not shipped; every item must match exactly one
    line of the order, and no line may appear twice; a quantity may not
    exceed what is still refundable, counting refunds still pending; a
    whole-order refund needs something left to refund. Items are checked
    in their order, and the first item that breaks a rule decides the
    answer (for one item: no matching line, then named twice, then too
    many pieces).

    Args:
        id (str):
        idempotency_key (str | Unset):
        body (RefundRequest): The body of Refund Order. Every field is optional; `{}` refunds the
            whole order with reason `Other`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RefundOrderResponse]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RefundRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | RefundOrderResponse | None:
    """Refund Order

     Cancels the order, or the given pieces of some of its lines, and
    refunds them. Allowed only while the order has not shipped.

    The operation is asynchronous: it creates a refund request and answers
    its refund number in `data`; follow it with Query Refund. The status
    settles usually within 1 hour, at most within 24 hours.

    - Without `orderItems` the whole remaining quantity of the order is
      refunded.
    - With `orderItems`, each item names one order line by `itemId` +
      `skuCode` + `countryCode` (lines of one order can share an
      `itemId`) and refunds `quantity` pieces of it.

    Business rules (the vendor does not document how it reports them;
    this spec answers 409 with the codes listed under that response): the
    order must be paid and not shipped; every item must match exactly one
    line of the order, and no line may appear twice; a quantity may not
    exceed what is still refundable, counting refunds still pending; a
    whole-order refund needs something left to refund. Items are checked
    in their order, and the first item that breaks a rule decides the
    answer (for one item: no matching line, then named twice, then too
    many pieces).

    Args:
        id (str):
        idempotency_key (str | Unset):
        body (RefundRequest): The body of Refund Order. Every field is optional; `{}` refunds the
            whole order with reason `Other`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RefundOrderResponse
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RefundRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Error | RefundOrderResponse]:
    """Refund Order

     Cancels the order, or the given pieces of some of its lines, and
    refunds them. Allowed only while the order has not shipped.

    The operation is asynchronous: it creates a refund request and answers
    its refund number in `data`; follow it with Query Refund. The status
    settles usually within 1 hour, at most within 24 hours.

    - Without `orderItems` the whole remaining quantity of the order is
      refunded.
    - With `orderItems`, each item names one order line by `itemId` +
      `skuCode` + `countryCode` (lines of one order can share an
      `itemId`) and refunds `quantity` pieces of it.

    Business rules (the vendor does not document how it reports them;
    this spec answers 409 with the codes listed under that response): the
    order must be paid and not shipped; every item must match exactly one
    line of the order, and no line may appear twice; a quantity may not
    exceed what is still refundable, counting refunds still pending; a
    whole-order refund needs something left to refund. Items are checked
    in their order, and the first item that breaks a rule decides the
    answer (for one item: no matching line, then named twice, then too
    many pieces).

    Args:
        id (str):
        idempotency_key (str | Unset):
        body (RefundRequest): The body of Refund Order. Every field is optional; `{}` refunds the
            whole order with reason `Other`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RefundOrderResponse]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    body: RefundRequest,
    idempotency_key: str | Unset = UNSET,
) -> Error | RefundOrderResponse | None:
    """Refund Order

     Cancels the order, or the given pieces of some of its lines, and
    refunds them. Allowed only while the order has not shipped.

    The operation is asynchronous: it creates a refund request and answers
    its refund number in `data`; follow it with Query Refund. The status
    settles usually within 1 hour, at most within 24 hours.

    - Without `orderItems` the whole remaining quantity of the order is
      refunded.
    - With `orderItems`, each item names one order line by `itemId` +
      `skuCode` + `countryCode` (lines of one order can share an
      `itemId`) and refunds `quantity` pieces of it.

    Business rules (the vendor does not document how it reports them;
    this spec answers 409 with the codes listed under that response): the
    order must be paid and not shipped; every item must match exactly one
    line of the order, and no line may appear twice; a quantity may not
    exceed what is still refundable, counting refunds still pending; a
    whole-order refund needs something left to refund. Items are checked
    in their order, and the first item that breaks a rule decides the
    answer (for one item: no matching line, then named twice, then too
    many pieces).

    Args:
        id (str):
        idempotency_key (str | Unset):
        body (RefundRequest): The body of Refund Order. Every field is optional; `{}` refunds the
            whole order with reason `Other`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RefundOrderResponse
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
