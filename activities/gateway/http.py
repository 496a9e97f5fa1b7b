"""One HTTP attempt to an outside system, and what its answer means for Temporal's retrying.

2xx: done. 408, 429, 5xx, timeouts and connection errors: the other side may answer later —
a retryable failure, and Temporal's retry policy (backoff, maximum interval) tries again. Any
other answer (400, 401, 403, 404, 409, 422...) will not change by asking again: non-retryable,
and the ticket shows it as a delivery failure. There is no retry loop here."""

from datetime import timedelta

import httpx
from pydantic import BaseModel
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.contracts import DELIVERY_REJECTED, DELIVERY_UNAVAILABLE
from domain.privacy import scrub_phones

RETRYABLE_STATUS = {408, 429}
MAX_RETRY_AFTER = timedelta(minutes=10)  # the delivery retry policy's maximum interval


class Failure(Exception):
    """An attempt that did not go through, and whether asking again may help."""

    def __init__(self, reason: str, retryable: bool, retry_after: timedelta | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after

    def as_activity_error(self) -> ApplicationError:
        if self.retryable:
            # Benign: a department being down is expected; our own log line says so once per attempt.
            return ApplicationError(
                self.reason, type=DELIVERY_UNAVAILABLE, next_retry_delay=self.retry_after,
                category=ApplicationErrorCategory.BENIGN,
            )  # fmt: skip
        return ApplicationError(self.reason, type=DELIVERY_REJECTED, non_retryable=True)


class Http:
    """The worker's one HTTP client (connection pooling), made on first use inside the worker's
    event loop. `transport` lets tests answer with httpx.MockTransport."""

    def __init__(self, timeout: float, transport: httpx.AsyncBaseTransport | None = None):
        self.timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                # Connect plus answer stays below the activity's 30 s start-to-close timeout.
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
                transport=self._transport,
                follow_redirects=False,  # a redirect is a misconfigured endpoint, not a place to send citizen data
                headers={"User-Agent": "hotline12345"},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def post(
        self, url: str, body: BaseModel, headers: dict[str, str], timeout: float | None = None
    ) -> httpx.Response:
        """POST the body as JSON once; a 2xx response, or a Failure. `timeout` shortens this
        attempt's wait (a delivery's quick first attempt)."""
        wait = min(timeout, self.timeout) if timeout else self.timeout
        try:
            response = await self.client.post(
                url,
                content=body.model_dump_json(),
                headers={"Content-Type": "application/json", **headers},
                timeout=httpx.Timeout(wait, connect=min(wait, 5.0)),
            )
        except httpx.TimeoutException as e:
            raise Failure(f"no answer within {wait:g} s ({type(e).__name__})", retryable=True) from e
        except httpx.TransportError as e:
            raise Failure(f"unreachable ({type(e).__name__}: {e})", retryable=True) from e
        if response.is_success:
            return response
        reason = f"HTTP {response.status_code}: {_detail(response)}"
        if response.status_code in RETRYABLE_STATUS or response.status_code >= 500:
            raise Failure(reason, retryable=True, retry_after=_retry_after(response))
        raise Failure(reason, retryable=False)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
        text = body.get("detail") if isinstance(body, dict) else None
        text = text if isinstance(text, str) else response.text
    except ValueError:
        text = response.text
    return scrub_phones((text or response.reason_phrase).strip())[:300]


def _retry_after(response: httpx.Response) -> timedelta | None:
    """Honour a numeric Retry-After (429, 503), capped at the policy's maximum interval."""
    value = response.headers.get("Retry-After", "")
    if not value.isdigit():
        return None
    return min(timedelta(seconds=int(value)), MAX_RETRY_AFTER)
