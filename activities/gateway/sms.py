"""SMS through the provider's HTTP gateway (HOTLINE_SMS_ENDPOINT). Templates are data
(catalog/sms.toml); the phone number goes to the provider and nowhere else."""

from dataclasses import dataclass

from activities.gateway.http import Failure, Http
from catalog.templates import TemplateError, render
from core.settings import Settings
from domain.contracts import SmsMessage


@dataclass(frozen=True)
class SmsResult:
    status: str  # delivered (to the provider) | queued (no provider configured)
    reference: str | None = None


class SmsGateway:
    def __init__(self, http: Http, settings: Settings):
        self.http = http
        self.settings = settings

    async def send(
        self, phone: str, template: str, params: dict[str, str], key: str, timeout: float | None = None
    ) -> SmsResult:
        try:
            text = render(template, params)
        except TemplateError as e:
            raise Failure(str(e), retryable=False) from e
        if not self.settings.sms_endpoint:
            return SmsResult("queued")  # no provider configured: recorded, for an operator to see
        headers = {"Idempotency-Key": key}
        if self.settings.sms_api_key:
            headers["Authorization"] = f"Bearer {self.settings.sms_api_key.get_secret_value()}"
        message = SmsMessage(to=phone, sign=self.settings.sms_sign, template=template, text=text, reference=key)
        response = await self.http.post(self.settings.sms_endpoint, message, headers, timeout)
        try:
            reference = response.json().get("id")
        except (ValueError, AttributeError):
            reference = None
        return SmsResult("delivered", str(reference) if reference else None)
