from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.query_refund_response import QueryRefundResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: str,
    *,
    page_number: int | Unset = 1,
    page_size: int | Unset = 10,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["pageNumber"] = page_number

    params["pageSize"] = page_size

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/openapi/v2/order/orders/refund/{id}".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | QueryRefundResponse | None:
    if response.status_code == 200:
        response_200 = QueryRefundResponse.from_dict(response.json())

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
) -> Response[Error | QueryRefundResponse]:
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
    page_number: int | Unset = 1,
    page_size: int | Unset = 10,
) -> Response[Error | QueryRefundResponse]:
    """Query Refund

     Lists the refunds of one order, newest first, one page at a time, with
    their status: `pending_review` until the refund settles to
    `refund_successfully` or `refund_failed`. The path `id` is the
    **order** id, not a refund number.

    Args:
        id (str):
        page_number (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | QueryRefundResponse]
    """

    kwargs = _get_kwargs(
        id=id,
        page_number=page_number,
        page_size=page_size,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    page_number: int | Unset = 1,
    page_size: int | Unset = 10,
) -> Error | QueryRefundResponse | None:
    """Query Refund

     Lists the refunds of one order, newest first, one page at a time, with
    their status: `pending_review` until the refund settles to
    `refund_successfully` or `refund_failed`. The path `id` is the
    **order** id, not a refund number.

    Args:
        id (str):
        page_number (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | QueryRefundResponse
    """

    return sync_detailed(
        id=id,
        client=client,
        page_number=page_number,
        page_size=page_size,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    page_number: int | Unset = 1,
    page_size: int | Unset = 10,
) -> Response[Error | QueryRefundResponse]:
    """Query Refund

     Lists the refunds of one order, newest first, one page at a time, with
    their status: `pending_review` until the refund settles to
    `refund_successfully` or `refund_failed`. The path `id` is the
    **order** id, not a refund number.

    Args:
        id (str):
        page_number (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | QueryRefundResponse]
    """

    kwargs = _get_kwargs(
        id=id,
        page_number=page_number,
        page_size=page_size,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient | Client,
    page_number: int | Unset = 1,
    page_size: int | Unset = 10,
) -> Error | QueryRefundResponse | None:
    """Query Refund

     Lists the refunds of one order, newest first, one page at a time, with
    their status: `pending_review` until the refund settles to
    `refund_successfully` or `refund_failed`. The path `id` is the
    **order** id, not a refund number.

    Args:
        id (str):
        page_number (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | QueryRefundResponse
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            page_number=page_number,
            page_size=page_size,
        )
    ).parsed
