"""Mounting the workbench on the API's app: its pages, its static files and its own lists."""

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

from web import routes

VENDOR = routes.STATIC / "vendor"
KEEP_VENDOR = "public, max-age=86400"


class Static(StaticFiles):
    """The workbench's files. The vendored libraries (ECharts, Swagger UI: a megabyte of script)
    change only with a release of the product, so the browser keeps them for a day instead of
    asking again on every page; the product's own files are revalidated each time (ETag), so an
    upgrade shows at once."""

    def file_response(
        self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if Path(full_path).resolve().is_relative_to(VENDOR.resolve()):
            response.headers["Cache-Control"] = KEEP_VENDOR
        return response


def install(app: FastAPI) -> None:
    app.include_router(routes.router)
    app.include_router(routes.api)
    app.mount("/static", Static(directory=routes.STATIC), name="static")
