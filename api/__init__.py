"""FastAPI: intake, handler actions, supervisor views. `api.main:app` is the ASGI app."""
