"""The deployment files would run: deploy/compose.yaml against the Compose specification (the
compose-spec package's strict model), the Kubernetes manifests against the API server's OpenAPI
schemas in strict mode (kubernetes-validate, schemas shipped in the package), and the Helm values
against the keys the official Temporal chart reads (its values, vendored in tests/data). Nothing is
downloaded; no Docker engine or cluster is needed."""

import json
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from compose_spec import PyCompose

from core.settings import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
CHART = Path(__file__).resolve().parent / "data" / "temporal-chart"
K8S_VERSION = "1.33.0"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())  # YAML anchors and merge keys resolved


def test_compose_follows_the_spec_and_starts_in_order():
    raw = _compose()
    PyCompose.from_json(json.dumps(raw))  # raises on any key or value the specification does not allow
    services = raw["services"]
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"
        assert svc.get("restart") == ("no" if name == "setup" else "unless-stopped"), name
    assert services["setup"]["command"] == ["hotline", "setup"]
    for name in ("api", "worker"):
        assert services[name]["depends_on"] == {"setup": {"condition": "service_completed_successfully"}}
        assert "healthcheck" in services[name]
    assert services["setup"]["depends_on"]["temporal"] == {"condition": "service_healthy"}
    assert "/health/ready" in " ".join(services["api"]["healthcheck"]["test"])
    # Deliveries from containers go to the department gateway, never to a loopback address.
    env = services["worker"]["environment"]
    assert env["HOTLINE_DEPARTMENT_ORIGIN"].endswith("http://department-gateway:8100}")
    assert services["department-gateway"]["command"] == ["hotline", "simulator"]
    assert services["department-gateway"]["environment"]["HOTLINE_SIMULATOR_HOST"] == "0.0.0.0"
    assert env["HOTLINE_WORKER_METRICS_PORT"] == "9464"


def test_every_hotline_variable_in_compose_is_a_setting():
    known = {f"HOTLINE_{name.upper()}" for name in Settings.model_fields}
    for name, svc in _compose()["services"].items():
        for var in svc.get("environment", {}):
            if var.startswith("HOTLINE_"):
                assert var in known, f"{name}: {var} is not a setting (core/settings.py)"


def _manifests():
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            yield pytest.param(doc, id=f"{path.name}:{doc['kind']}")


@pytest.mark.parametrize("doc", list(_manifests()))
def test_kubernetes_manifests_are_valid_objects(doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)  # unknown fields are errors too


def test_kubernetes_wiring():
    docs = {(d["kind"], d["metadata"]["name"]): d for d in (p.values[0] for p in _manifests())}
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (DEPLOY / "k8s" / resource).exists(), resource
    config = docs[("ConfigMap", "hotline-config")]["data"]
    secret = docs[("Secret", "hotline-secrets")]["stringData"]
    known = {f"HOTLINE_{name.upper()}" for name in Settings.model_fields}
    assert set(config) | set(secret) <= known
    assert "127.0.0.1" not in config["HOTLINE_DEPARTMENT_ORIGIN"]
    for name in ("hotline-api", "hotline-worker"):
        pod = docs[("Deployment", name)]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert {"livenessProbe", "startupProbe", "resources"} <= set(container), name
        assert {e.get("configMapRef", e.get("secretRef"))["name"] for e in container["envFrom"]} == {
            "hotline-config", "hotline-secrets",
        }  # fmt: skip
    api = docs[("Deployment", "hotline-api")]["spec"]["template"]["spec"]["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert api["livenessProbe"]["httpGet"]["path"] == "/health/live"
    hpa = docs[("HorizontalPodAutoscaler", "hotline-worker")]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "hotline-worker" and hpa["minReplicas"] >= 2
    job = docs[("Job", "hotline-setup")]["spec"]["template"]["spec"]["containers"][0]
    assert job["command"][:2] == ["hotline", "setup"]


def _paths(doc, prefix=()):
    if isinstance(doc, dict) and doc:
        for k, v in doc.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))


def _open(doc, prefix=()):
    """Paths whose default is {}: free-form maps (resources, annotations...) take any key."""
    if isinstance(doc, dict):
        if not doc:
            yield prefix
        for k, v in doc.items():
            yield from _open(v, prefix + (k,))


# Keys the chart documents for every datastore (commented examples in its values.yaml), and the
# namespaces list's entries.
_DATASTORE_EXTRAS = {"existingSecret", "secretKey", "maxConns", "maxIdleConns", "maxConnLifetime", "username"}


def test_temporal_helm_values_use_only_keys_the_chart_reads():
    ours = yaml.safe_load((DEPLOY / "helm" / "temporal-values.yaml").read_text())
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    known = set(_paths(defaults)) | set(_paths(yaml.safe_load((CHART / "postgres-es-values.yaml").read_text())))
    free = set(_open(defaults))
    for path in _paths(ours):
        if any(path[: len(f)] == f for f in free):
            continue
        if path[:4] == ("server", "config", "persistence", "datastores") and path[-1] in _DATASTORE_EXTRAS:
            continue
        assert path in known, f"deploy/helm/temporal-values.yaml: {'.'.join(path)} is not a value of the chart"
    stores = ours["server"]["config"]["persistence"]["datastores"]
    assert stores["default"]["sql"]["pluginName"] == "postgres12"
    assert stores["visibility"]["elasticsearch"]["version"] == "v7"
    assert ours["server"]["config"]["namespaces"]["namespace"][0]["name"] == "default"
