"""Mounting the workbench on the API's app: its pages, its static files and its own lists."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from web import routes


def install(app: FastAPI) -> None:
    app.include_router(routes.router)
    app.include_router(routes.api)
    app.mount("/static", StaticFiles(directory=routes.STATIC), name="static")
