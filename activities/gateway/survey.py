"""The automated callback channel (回访): a voice or SMS survey provider (HOTLINE_CALLBACK_ENDPOINT)
reaches the citizen and brings the answer back through POST /tickets/{number}/callback."""

from activities.gateway.http import Failure, Http
from catalog.templates import TemplateError, render
from core.settings import Settings
from domain.contracts import CallbackRequest, CallbackSurvey


class CallbackChannel:
    def __init__(self, http: Http, settings: Settings):
        self.http = http
        self.settings = settings

    @property
    def automated(self) -> bool:
        return bool(self.settings.callback_endpoint)

    async def send(self, request: CallbackRequest, key: str) -> None:
        try:
            text = render("callback_survey", {"number": request.ticket})
        except TemplateError as e:
            raise Failure(str(e), retryable=False) from e
        survey = CallbackSurvey(
            ticket=request.ticket,
            attempt=request.attempt,
            channel=self.settings.callback_channel,
            phone=request.phone or "",
            result=request.result,
            reply=request.reply,
            text=text,
        )
        if not self.settings.callback_endpoint:
            raise Failure("no callback survey provider configured (HOTLINE_CALLBACK_ENDPOINT)", retryable=False)
        headers = {"Idempotency-Key": key}
        if self.settings.callback_api_key:
            headers["Authorization"] = f"Bearer {self.settings.callback_api_key.get_secret_value()}"
        await self.http.post(self.settings.callback_endpoint, survey, headers)
