"""The worker passes the ticket's helper modules through the sandbox (imported once, not for every
new instance): only modules that define no workflow may be among them."""

import importlib
import inspect
from pathlib import Path

import workflows
from worker import WORKFLOW_HELPERS


def _defines_a_workflow(module) -> bool:
    return any(
        hasattr(obj, "__temporal_workflow_definition") and obj.__module__ == module.__name__
        for _, obj in inspect.getmembers(module, inspect.isclass)
    )


def test_helpers_passed_through_define_no_workflow():
    for name in WORKFLOW_HELPERS:
        assert not _defines_a_workflow(importlib.import_module(name)), f"{name} defines a workflow: keep it sandboxed"


def test_every_helper_module_is_passed_through():
    """A new helper module left out would be re-imported for every ticket instance again."""
    folder = Path(workflows.__file__).parent
    modules = {f"workflows.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    helpers = {m for m in modules if not _defines_a_workflow(importlib.import_module(m))}
    assert helpers == set(WORKFLOW_HELPERS)
