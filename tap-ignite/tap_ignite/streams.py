"""Rows mode: one stream per export table, reading `POST /tables/{entity}/rows` page by page."""

from __future__ import annotations

import copy
import datetime
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams.rest import PageContext

from tap_ignite import wire
from tap_ignite.client import PageTokenExpiredError, decoded_body
from tap_ignite.columns import KeyBy, Table
from tap_ignite.settings import FULL_TABLE, parse_timestamp
from tap_ignite.table_stream import ExactRecordMessages

if sys.version_info >= (3, 12):
    from typing import override
else:
    from typing_extensions import override

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_ignite.tap import TapIgnite

API_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class PageTokenPaginator(BaseAPIPaginator[str | None]):
    """Follows `nextPageToken` until it is absent or null."""

    def __init__(self) -> None:
        super().__init__(None)

    @override
    def get_next(self, response: requests.Response) -> str | None:
        body = decoded_body(response)
        token = body.get(wire.RESPONSE_NEXT_PAGE_TOKEN) if isinstance(body, dict) else None
        return str(token) if token else None

    @override
    def has_more(self, response: requests.Response) -> bool:
        return self.get_next(response) is not None

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        # The API may return fewer rows than asked, even none, and still have more pages.
        return self.has_more(response)


class RowsStream(ExactRecordMessages):
    """The rows of one export table, page by page, incremental where it has a replication key.

    Records are the API's rows as they arrive: the body asks only for the selected columns,
    values already have the documented JSON types, so no per-record conformance is needed.
    """

    def __init__(self, tap: TapIgnite, table: Table) -> None:
        self.table = table
        self.key_by: KeyBy = tap.settings.key_by
        property_names = table.property_names(self.key_by)
        super().__init__(
            tap,
            name=table.id,
            columns=table.columns,
            property_names=property_names,
            schema=table.json_schema(self.key_by),
            key_columns=table.primary_keys,
            path=wire.ROWS_PATH.format(entity=quote(table.id, safe="")),
            http_method="POST",
        )
        self.replication_column = self._replication_column()
        self.replication_key = (
            self.property_names[self.replication_column] if self.replication_column else None
        )
        self._request_body: dict[str, Any] = {}
        self.extracted_at = datetime.datetime.now(datetime.UTC)
        self._page_max: dict[str, Any] | None = None
        self._page_max_context: Context | None = None

    def _replication_column(self) -> str | None:
        configured = self.settings.replication_keys.get(self.table.id)
        if configured is not None:
            return None if configured == FULL_TABLE else str(configured)
        column = self.table.column(wire.DEFAULT_REPLICATION_KEY)
        if column is not None and "gte" in column.supported_operators:
            return column.name
        return None

    # -- the request body -------------------------------------------------------------------

    def rows_filters(self, context: Context | None) -> dict[str, Any]:
        """The configured filters AND `replication_key gte bookmark-or-start_date`."""
        filters: dict[str, Any] = copy.deepcopy(
            dict(self.settings.filters.get(self.table.id) or {})
        )
        column = self.replication_column
        if column is None:
            return filters
        start = self.get_starting_replication_key_value(context)
        if start is None:
            return filters
        bound = self._api_value(column, start)
        condition = dict(filters.get(column) or {})
        configured = condition.get("gte")
        if configured is None or self._sort_key(column, configured) < self._sort_key(column, bound):
            condition["gte"] = bound
        filters[column] = condition
        return filters

    def rows_request_body(self, context: Context | None) -> dict[str, Any]:
        """The body of every page's request; only `pageToken` is added on later pages."""
        return {
            wire.BODY_FIELDS: self.selected_columns(),
            wire.BODY_FILTERS: self.rows_filters(context),
            wire.BODY_PAGE_SIZE: self.settings.page_size,
            wire.BODY_KEY_BY: self.key_by,
        }

    @override
    def prepare_request_payload(
        self, context: Context | None, next_page_token: str | None
    ) -> dict[str, Any]:
        if next_page_token is None:
            return self._request_body
        return {**self._request_body, wire.BODY_PAGE_TOKEN: next_page_token}

    def _api_value(self, column_name: str, value: Any) -> Any:
        """A bookmark or start_date in the format the API's filters take for this column."""
        column = self.table.column(column_name)
        data_type = column.data_type if column else ""
        if data_type in {"TIMESTAMP", "DATE"} and isinstance(value, str):
            parsed = parse_timestamp(value)
            if parsed is not None:
                # Flooring to the second only widens an inclusive lower bound.
                fmt = API_TIMESTAMP_FORMAT if data_type == "TIMESTAMP" else "%Y-%m-%d"
                return parsed.strftime(fmt)
        return value

    def _sort_key(self, column_name: str, value: Any) -> Any:
        formatted = self._api_value(column_name, value)
        return str(formatted) if isinstance(formatted, str) else formatted

    # -- state ------------------------------------------------------------------------------

    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> Any:
        """Now, in the API's timestamp format: no bookmark may pass the sync's start.

        Rows are read in id order, not replication-key order, so a row changed while the
        sync runs can be missed by this run; capping the bookmark at the start time makes
        the next run read it. Same string format as the rows, so comparisons are exact.
        """
        if not self.replication_column or not self.is_timestamp_replication_key:
            return None
        return datetime.datetime.now(datetime.UTC).strftime(API_TIMESTAMP_FORMAT)

    # -- records ----------------------------------------------------------------------------

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        return PageTokenPaginator()

    @override
    def table_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """Page through the rows endpoint; an expired page token restarts from page one."""
        self._request_body = self.rows_request_body(context)
        restarts_left = self.settings.max_page_token_restarts
        while True:
            rows_sent = 0
            try:
                for row in self.request_records(context):
                    rows_sent += 1
                    yield row
            except PageTokenExpiredError as exc:
                if restarts_left <= 0:
                    msg = f"Table '{self.name}': page token expired again; giving up ({exc})"
                    raise FatalAPIError(msg) from exc
                restarts_left -= 1
                self.logger.warning(
                    "Table '%s': page token expired after %d rows; restarting from the first "
                    "page (rows already sent will be sent again)",
                    self.name,
                    rows_sent,
                )
                continue
            return

    @override
    def request_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """The SDK's paging loop, with the next page requested while this one is written.

        Same hooks as `RESTStream.request_records` (paginator, request_decorator with its
        retries, validate_response, parse_response); the only change is that the request for
        page n+1 is in flight, on one worker thread, while page n's records are emitted, so
        the API's time and the tap's time overlap instead of adding up. Once a page's records
        are all written, its bookmark progress is settled (`page_written`).
        """
        paginator = self.get_new_paginator()
        send = self.request_decorator(self._request)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-prefetch")

        def fetch(page_token: str | None) -> requests.Response:
            # Prepared and sent on the worker thread: the requests session has one user.
            page = PageContext(stream_context=context, next_page_token=page_token)
            request = self.get_http_request(page=page)
            prepared = self.build_prepared_request(
                method=request.method,
                url=request.url,
                params=request.encode_params(),
                headers=request.headers,
                json=request.data,
            )
            return send(prepared, context)

        def submit() -> Future[requests.Response]:
            return pool.submit(fetch, paginator.current_value)

        try:
            with self.get_http_request_counter() as request_counter:
                request_counter.with_context(context)
                pending: Future[requests.Response] | None = submit()
                while pending is not None:
                    response = pending.result()
                    request_counter.increment()
                    rows = self.parse_response(response)
                    paginator.advance(response)
                    pending = None if paginator.finished else submit()
                    yield from rows
                    self.page_written()
        finally:
            # An abandoned sync (error, dry-run limit) must not wait for a prefetch.
            pool.shutdown(wait=False, cancel_futures=True)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        # One extraction time per page: the rows of a page were all read at this moment.
        self.extracted_at = datetime.datetime.now(datetime.UTC)
        return self.shape_rows(super().parse_response(response))

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        """Remember the page's highest replication value; the SDK's state takes it per page.

        The SDK's per-record state update was a fifth of a sync's time. Progress markers of an
        unsorted stream are only promoted to a bookmark when the table is finished, so moving
        them once per page (and at the end) gives the same final STATE, and interim STATEs can
        only lag behind what was written, never run ahead of it.
        """
        key = self.replication_key
        if key is None:
            return
        value = latest_record.get(key)
        if value is not None and (self._page_max is None or value > self._page_max[key]):
            self._page_max = latest_record
            self._page_max_context = context

    def page_written(self) -> None:
        """A page's records are all written: its highest replication value moves the
        stream's progress (what `_increment_stream_state` would have done per record)."""
        if self._page_max is not None:
            super()._increment_stream_state(self._page_max, context=self._page_max_context)
            self._page_max = None
