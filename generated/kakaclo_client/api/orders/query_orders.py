import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.query_order_response import QueryOrderResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    ids: str | Unset = UNSET,
    create_start_time: datetime.datetime | Unset = UNSET,
    create_end_time: datetime.datetime | Unset = UNSET,
    update_start_time: datetime.datetime | Unset = UNSET,
    update_end_time: datetime.datetime | Unset = UNSET,
    page_number: int | Unset = 1,
    page_size: int | Unset = 10,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["ids"] = ids

    json_create_start_time: str | Unset = UNSET
    if not isinstance(create_start_time, Unset):
        json_create_start_time = create_start_time.isoformat()
    params["createStartTime"] = json_create_start_time

    json_create_end_time: str | Unset = UNSET
    if not isinstance(create_end_time, Unset):
        json_create_end_time = create_end_time.isoformat()
    params["createEndTime"] = json_create_end_time

    json_update_start_time: str | Unset = UNSET
    if not isinstance(update_start_time, Unset):
        json_update_start_time = update_start_time.isoformat()
    params["updateStartTime"] = json_update_start_time

    json_update_end_time: str | Unset = UNSET
    if not isinstance(update_end_time, Unset):
        json_update_end_time = update_end_time.isoformat()
    params["updateEndTime"] = json_update_end_time

    params["pageNumber"] = page_number

    params["pageSize"] = page_size

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/openapi/v2/order/orders",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | QueryOrderResponse | None:
    if response.status_code == 200:
        response_200 = QueryOrderResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

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
) -> Response[Error | QueryOrderResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    ids: str | Unset = UNSET,
    create_start_time: datetime.datetime | Unset = UNSET,
    create_end_time: datetime.datetime | Unset = UNSET,
    update_start_time: datetime.datetime | Unset = UNSET,
    update_end_time: datetime.datetime | Unset = UNSET,
    page_number: int | Unset = 1,
    page_size: int | Unset = 10,
) -> Response[Error | QueryOrderResponse]:
    """Query Order

     Lists the caller's orders, one page at a time, filtered by ids and by
    creation and update time. Ids the caller does not own are not an
    error: they simply match nothing, exactly like ids that do not exist.

    **Filters are exact.** The answer holds exactly the caller's orders
    that match every filter given: `ids` lists each matching order once;
    a time filter keeps an order whose `createDate` (or `modifyDate`) is
    at or after the start and at or before the end, boundaries included.
    The paging rules of `OrderPage` hold for every filter.

    Args:
        ids (str | Unset):
        create_start_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the
            vendor sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        create_end_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the vendor
            sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        update_start_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the
            vendor sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        update_end_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the vendor
            sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        page_number (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | QueryOrderResponse]
    """

    kwargs = _get_kwargs(
        ids=ids,
        create_start_time=create_start_time,
        create_end_time=create_end_time,
        update_start_time=update_start_time,
        update_end_time=update_end_time,
        page_number=page_number,
        page_size=page_size,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    ids: str | Unset = UNSET,
    create_start_time: datetime.datetime | Unset = UNSET,
    create_end_time: datetime.datetime | Unset = UNSET,
    update_start_time: datetime.datetime | Unset = UNSET,
    update_end_time: datetime.datetime | Unset = UNSET,
    page_number: int | Unset = 1,
    page_size: int | Unset = 10,
) -> Error | QueryOrderResponse | None:
    """Query Order

     Lists the caller's orders, one page at a time, filtered by ids and by
    creation and update time. Ids the caller does not own are not an
    error: they simply match nothing, exactly like ids that do not exist.

    **Filters are exact.** The answer holds exactly the caller's orders
    that match every filter given: `ids` lists each matching order once;
    a time filter keeps an order whose `createDate` (or `modifyDate`) is
    at or after the start and at or before the end, boundaries included.
    The paging rules of `OrderPage` hold for every filter.

    Args:
        ids (str | Unset):
        create_start_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the
            vendor sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        create_end_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the vendor
            sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        update_start_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the
            vendor sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        update_end_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the vendor
            sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        page_number (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | QueryOrderResponse
    """

    return sync_detailed(
        client=client,
        ids=ids,
        create_start_time=create_start_time,
        create_end_time=create_end_time,
        update_start_time=update_start_time,
        update_end_time=update_end_time,
        page_number=page_number,
        page_size=page_size,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    ids: str | Unset = UNSET,
    create_start_time: datetime.datetime | Unset = UNSET,
    create_end_time: datetime.datetime | Unset = UNSET,
    update_start_time: datetime.datetime | Unset = UNSET,
    update_end_time: datetime.datetime | Unset = UNSET,
    page_number: int | Unset = 1,
    page_size: int | Unset = 10,
) -> Response[Error | QueryOrderResponse]:
    """Query Order

     Lists the caller's orders, one page at a time, filtered by ids and by
    creation and update time. Ids the caller does not own are not an
    error: they simply match nothing, exactly like ids that do not exist.

    **Filters are exact.** The answer holds exactly the caller's orders
    that match every filter given: `ids` lists each matching order once;
    a time filter keeps an order whose `createDate` (or `modifyDate`) is
    at or after the start and at or before the end, boundaries included.
    The paging rules of `OrderPage` hold for every filter.

    Args:
        ids (str | Unset):
        create_start_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the
            vendor sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        create_end_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the vendor
            sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        update_start_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the
            vendor sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        update_end_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the vendor
            sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        page_number (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | QueryOrderResponse]
    """

    kwargs = _get_kwargs(
        ids=ids,
        create_start_time=create_start_time,
        create_end_time=create_end_time,
        update_start_time=update_start_time,
        update_end_time=update_end_time,
        page_number=page_number,
        page_size=page_size,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    ids: str | Unset = UNSET,
    create_start_time: datetime.datetime | Unset = UNSET,
    create_end_time: datetime.datetime | Unset = UNSET,
    update_start_time: datetime.datetime | Unset = UNSET,
    update_end_time: datetime.datetime | Unset = UNSET,
    page_number: int | Unset = 1,
    page_size: int | Unset = 10,
) -> Error | QueryOrderResponse | None:
    """Query Order

     Lists the caller's orders, one page at a time, filtered by ids and by
    creation and update time. Ids the caller does not own are not an
    error: they simply match nothing, exactly like ids that do not exist.

    **Filters are exact.** The answer holds exactly the caller's orders
    that match every filter given: `ids` lists each matching order once;
    a time filter keeps an order whose `createDate` (or `modifyDate`) is
    at or after the start and at or before the end, boundaries included.
    The paging rules of `OrderPage` hold for every filter.

    Args:
        ids (str | Unset):
        create_start_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the
            vendor sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        create_end_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the vendor
            sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        update_start_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the
            vendor sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        update_end_time (datetime.datetime | Unset): An instant in ISO 8601 / RFC 3339; the vendor
            sends and expects UTC
            with a `Z` suffix. Accepted from 1970 to 2999 (years as four
            digits), without leap seconds (`:60`); others answer 400 (40002).
        page_number (int | Unset):  Default: 1.
        page_size (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | QueryOrderResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            ids=ids,
            create_start_time=create_start_time,
            create_end_time=create_end_time,
            update_start_time=update_start_time,
            update_end_time=update_end_time,
            page_number=page_number,
            page_size=page_size,
        )
    ).parsed
