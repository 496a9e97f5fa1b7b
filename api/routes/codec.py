"""The codec server of the Temporal Web UI and CLI: payloads are sealed in Temporal (core/codec.py)
and only the center's staff may read them in the clear, here, with a center token.

    temporal workflow show -w ticket-… --codec-endpoint http://127.0.0.1:8000/codec \\
        --codec-auth "Bearer $CENTER"

The Web UI of `hotline up` is started with this endpoint (--ui-codec-endpoint); the browser
must send the center token (the UI's "pass access token" with single sign-on, or a proxy that
adds it). Without one the UI shows the sealed bytes, never the citizen."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.deps import require
from api.errors import ApiError
from core.codec import EncryptionCodec, PayloadKeyError
from domain.ticket import Actor
from domain.vocabulary import Role

router = APIRouter(prefix="/codec", tags=["codec server (Temporal Web UI)"])

CodecActor = Annotated[Actor, Depends(require(Role.center, what="decode Temporal payloads"))]
PayloadsBody = Annotated[
    dict, Body(examples=[{"payloads": [{"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA=="}, "data": "..."}]}])
]


def _cors(request: Request, response: Response) -> None:
    origin = request.headers.get("origin")
    if origin and origin in request.app.state.settings.codec_cors_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, X-Namespace"
        response.headers["Vary"] = "Origin"


def _payloads(body: dict) -> Payloads:
    try:
        return json_format.ParseDict(body, Payloads())
    except (json_format.ParseError, TypeError, ValueError) as e:
        raise ApiError(422, "body must be {'payloads': [{'metadata': {...}, 'data': '<base64>'}]}") from e


@router.options("/{operation}", include_in_schema=False)
async def preflight(operation: str, request: Request) -> Response:
    response = Response(status_code=204)
    _cors(request, response)
    return response


@router.post("/decode", summary="Open sealed Temporal payloads (center only)")
async def decode(_: CodecActor, body: PayloadsBody, request: Request, response: Response) -> dict:
    _cors(request, response)
    codec = EncryptionCodec.of(request.app.state.settings)
    try:
        opened = await codec.decode(list(_payloads(body).payloads))
    except PayloadKeyError as e:
        raise ApiError(422, str(e)) from e
    return json_format.MessageToDict(Payloads(payloads=opened))


@router.post("/encode", summary="Seal Temporal payloads (center only), e.g. a signal typed in the Web UI")
async def encode(_: CodecActor, body: PayloadsBody, request: Request, response: Response) -> dict:
    _cors(request, response)
    codec = EncryptionCodec.of(request.app.state.settings)
    return json_format.MessageToDict(Payloads(payloads=await codec.encode(list(_payloads(body).payloads))))
