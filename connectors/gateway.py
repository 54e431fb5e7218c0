"""The ingest gateway: helpdesk webhooks and our own contract over HTTP, into Kafka.

Each request is authenticated (the vendor's own scheme), size- and rate-limited, mapped onto the
event contract and answered 202 only once Kafka has acknowledged its events (acks=all). Event ids
are derived from the vendor's delivery id, so a retried delivery lands once. What cannot be mapped
gets 400 with the reason and is dead-lettered with its original body.
"""

import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from limits import RateLimitItem
from limits import parse as parse_limit
from pydantic import ValidationError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from connectors.publishing import NotConnected, Publishing, Record, record_of, topic_of
from connectors.settings import GatewaySettings
from connectors.vendors.auth import Unauthorized, WrongSecret, token
from connectors.vendors.mapping import Unmappable, VendorMapping
from connectors.vendors.registry import Vendor
from cxa import topics
from cxa.deadletters import AT_HEADER, KIND_HEADER, ORIGIN_TOPIC_HEADER, REASON_HEADER, Refusal, cap_reason
from cxa.events import EVENT_ADAPTER, describe

log = logging.getLogger(__name__)

MAX_EVENTS_PER_REQUEST = 1000


class Refused(Exception):
    """A request refused with a status and a reason (dead-lettered when ``kind`` is set)."""

    def __init__(self, status: int, reason: str, kind: Refusal | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.kind = status, reason, kind


class FixedWindow:
    """At most ``rate.amount`` hits per key in a window of ``rate.get_expiry()`` seconds from its first
    hit (limits' fixed window), kept in this process: cheaper than limits' MemoryStorage, which
    starts a thread every 10 ms to expire its keys."""

    def __init__(self, rate: RateLimitItem) -> None:
        self._amount, self._seconds = rate.amount, rate.get_expiry()
        self._windows: dict[str, tuple[float, int]] = {}  # key: (end of its window, hits in it)
        self._sweep_at = 0.0

    def hit(self, key: str) -> bool:
        now = time.monotonic()
        if now >= self._sweep_at:  # forget the keys whose window is over, once a window
            self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
            self._sweep_at = now + self._seconds
        end, hits = self._windows.get(key, (0.0, 0))
        if now >= end:
            end, hits = now + self._seconds, 0
        self._windows[key] = (end, hits + 1)
        return hits < self._amount


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different: with a key twice, a text pasted into a template
    (a customer's comment) could have overridden the fields after it."""
    found = dict(pairs)
    if len(found) < len(pairs):
        names = [name for name, _ in pairs]
        raise ValueError(f"the key {next(n for n in names if names.count(n) > 1)!r} appears twice")
    return found


def _json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as exc:
        raise Refused(400, f"the body is not UTF-8 JSON with unique keys: {exc}", Refusal.MALFORMED) from None


def create_app(
    settings: GatewaySettings,
    publisher: Publishing,
    vendors: dict[str, Vendor],
    mappings: dict[str, VendorMapping],
) -> FastAPI:
    limiter = FixedWindow(parse_limit(settings.rate_limit))
    max_age = timedelta(seconds=settings.zendesk_max_age_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await publisher.start()
        try:
            yield
        finally:
            await publisher.stop()

    app = FastAPI(title="cxa ingest gateway", lifespan=lifespan, docs_url=None, redoc_url=None)
    # The client a trusted reverse proxy names in X-Forwarded-For is the request's client (the first
    # address from the right that is no trusted proxy), so the rate limit is per helpdesk behind it;
    # anyone else's X-Forwarded-For is ignored.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies())

    async def body_of(request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > settings.max_body_bytes:
            raise Refused(
                413, f"the body is over {settings.max_body_bytes} bytes (CXA_INGEST_MAX_BODY_BYTES)"
            )
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_body_bytes:
                raise Refused(
                    413, f"the body is over {settings.max_body_bytes} bytes (CXA_INGEST_MAX_BODY_BYTES)"
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def limit(request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        if not limiter.hit(client):
            raise Refused(429, f"more than {settings.rate_limit} from {client} (CXA_INGEST_RATE_LIMIT)")

    async def publish(records: list[Record]) -> None:
        try:
            await publisher.publish(records)
        except NotConnected as exc:
            raise Refused(503, "Kafka is not reachable yet; retry later") from exc
        except Exception as exc:
            log.warning("Kafka did not acknowledge %d records: %s", len(records), exc)
            raise Refused(503, "Kafka did not acknowledge the events in time; retry later") from exc

    def verify(vendor: Vendor, request: Request, body: bytes) -> None:
        """Genuine if signed with any of the setting's secrets (during a rotation, or Zendesk's two
        webhooks). Refused, the reason is one whose secret matched (a replay, say) if any."""
        secrets = settings.secrets(vendor.secret_setting)
        if not secrets:
            raise Refused(
                401, f"webhooks from {vendor.name} are off: set CXA_INGEST_{vendor.secret_setting.upper()}"
            )
        now, refusals = datetime.now(UTC), []
        for secret in secrets:
            try:
                return vendor.verify(request.headers, request.query_params, body, secret, now, max_age)
            except Unauthorized as exc:
                refusals.append(exc)
        raise Refused(401, str(next((r for r in refusals if not isinstance(r, WrongSecret)), refusals[0])))

    async def dead_letter(origin: str, body: bytes, refused: Refused) -> None:
        assert refused.kind is not None
        headers = [
            (REASON_HEADER, cap_reason(refused.reason).encode("utf-8")),
            (KIND_HEADER, refused.kind.value.encode("utf-8")),
            (AT_HEADER, datetime.now(UTC).isoformat().encode("utf-8")),
            (ORIGIN_TOPIC_HEADER, origin.encode("utf-8")),
        ]
        await publish([Record(topics.DEADLETTER, origin, body, headers)])

    async def answer(origin: str, request: Request, handle: Any) -> JSONResponse:
        """Run one request's handler; refusals become their status, and the bad ones dead letters."""
        body = b""
        try:
            limit(request)
            body = await body_of(request)
            return await handle(body)
        except Refused as refused:
            if refused.kind is not None:
                await dead_letter(origin, body, refused)
            headers = {"Retry-After": "1"} if refused.status in (429, 503) else None
            return JSONResponse({"error": refused.reason}, status_code=refused.status, headers=headers)

    @app.exception_handler(Refused)
    async def refused_handler(
        _: Request, refused: Refused
    ) -> JSONResponse:  # e.g. Kafka down mid dead-letter
        return JSONResponse(
            {"error": refused.reason}, status_code=refused.status, headers={"Retry-After": "1"}
        )

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        if await publisher.ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "Kafka is not reachable (KAFKA_BOOTSTRAP_SERVERS)"}, status_code=503)

    @app.post("/events", status_code=202)
    async def post_events(request: Request) -> JSONResponse:
        async def handle(body: bytes) -> JSONResponse:
            expected = settings.events_token
            if expected is None:
                raise Refused(401, "POST /events is off: set CXA_INGEST_EVENTS_TOKEN")
            given = request.headers.get("authorization", "")
            try:
                token(
                    given.removeprefix("Bearer ") if given.startswith("Bearer ") else None,
                    expected.get_secret_value(),
                    "the Authorization: Bearer header",
                )
            except Unauthorized as exc:
                raise Refused(401, str(exc)) from None
            document = _json(body)
            items = document if isinstance(document, list) else [document]
            if not items or len(items) > MAX_EVENTS_PER_REQUEST:
                count = f"send 1 to {MAX_EVENTS_PER_REQUEST} events (one object or a JSON array)"
                raise Refused(400, f"{count}, not {len(items)}", Refusal.SCHEMA)
            records, errors = [], []
            for index, item in enumerate(items):
                # Forwarded as the client wrote it: an event without event_id gets, from the worker,
                # an id made from its bytes, so a retried request lands once.
                value = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                try:
                    event = EVENT_ADAPTER.validate_json(value)
                except ValidationError as exc:
                    errors.append(f"[{index}] {describe(exc)}")
                    continue
                records.append(Record(topic_of(event), event.key, value))
            if errors:
                raise Refused(400, "; ".join(errors), Refusal.SCHEMA)
            await publish(records)
            return JSONResponse({"accepted": len(records)}, status_code=202)

        return await answer("http/events", request, handle)

    @app.post("/webhooks/{name}", status_code=202)
    async def post_webhook(name: str, request: Request) -> JSONResponse:
        vendor = vendors.get(name)
        if vendor is None:
            raise HTTPException(404, f"no such helpdesk: {name} (known: {', '.join(sorted(vendors))})")

        async def handle(body: bytes) -> JSONResponse:
            verify(vendor, request, body)
            payload = _json(body)
            if not isinstance(payload, dict):
                raise Refused(
                    400, f"a {name} webhook is a JSON object, not {type(payload).__name__}", Refusal.SCHEMA
                )
            try:
                events = vendor.events(payload, mappings[name], vendor.delivery(request.headers, payload))
            except (Unmappable, ValidationError, KeyError, TypeError, ValueError, AttributeError) as exc:
                # A field of another shape than the vendor documents (a string where an object belongs).
                reason = describe(exc) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
                raise Refused(400, f"cannot map this {name} payload: {reason}", Refusal.SCHEMA) from None
            await publish([record_of(event) for event in events])
            return JSONResponse({"accepted": len(events)}, status_code=202)

        return await answer(f"webhook/{name}", request, handle)

    return app
