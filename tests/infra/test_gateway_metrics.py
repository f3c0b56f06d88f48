"""The gateway's metrics reach Cloud Monitoring and not the internet: the gateway serves
/metrics on 127.0.0.1 at METRICS_PORT (tests/gateway/test_health.py runs it), terraform
sets that port, and the Managed Service for Prometheus sidecar is configured (a
RunMonitoring mounted at /etc/rungmp/config.yaml, its documented place) to scrape that port
and not the public one, its own default. Static, as terraform cannot run here."""

from __future__ import annotations

from typing import Any

from gateway.config import DEFAULT_METRICS_PORT, load_config
from tests.infra import tfmodel

SIDECAR_CONFIG_DIR = "/etc/rungmp"  # the sidecar reads config.yaml there
PUBLIC_PORT = 8080  # Cloud Run's ingress reaches the container port only


def _gateway() -> tfmodel.Scope:
    return tfmodel.child(tfmodel.root(), "gateway")


def _local(name: str) -> Any:
    scope = _gateway()
    return tfmodel.evaluate(scope.module.locals[name], scope)


def _service() -> dict[str, Any]:
    return _gateway().module.resources[("google_cloud_run_v2_service", "main")]


def _containers() -> dict[str, dict[str, Any]]:
    (template,) = _service()["template"]
    return {c["name"]: c for c in template["containers"]}


def _scraped_endpoint() -> dict[str, Any]:
    run_monitoring = _local("run_monitoring")
    assert run_monitoring["kind"] == "RunMonitoring"
    assert run_monitoring["apiVersion"] == "monitoring.googleapis.com/v1beta"
    (endpoint,) = run_monitoring["spec"]["endpoints"]
    assert isinstance(endpoint, dict)
    return endpoint


def test_sidecar_scrapes_the_port_the_gateway_serves_metrics_on_and_not_the_public_one() -> None:
    env = {k: v for k, v in _local("env").items() if v is not None}
    config = load_config({**env, "GOOGLE_CLOUD_PROJECT": "p"})
    endpoint = _scraped_endpoint()
    assert endpoint["path"] == "/metrics"
    assert int(endpoint["port"]) == config.metrics_port == DEFAULT_METRICS_PORT
    assert config.metrics_port != PUBLIC_PORT
    ports = [p["container_port"] for p in _containers()["gateway"]["ports"]]
    assert ports == [PUBLIC_PORT], "only the public port is exposed; metrics stay on localhost"


def test_sidecar_reads_the_run_monitoring_from_secret_manager_at_its_documented_path() -> None:
    module = _gateway().module
    version = module.resources[("google_secret_manager_secret_version", "run_monitoring")]
    assert version["secret_data"] == "${yamlencode(local.run_monitoring)}"
    (mount,) = _containers()["prometheus"]["volume_mounts"]
    assert mount["mount_path"] == SIDECAR_CONFIG_DIR
    (template,) = _service()["template"]
    volume = next(v for v in template["volumes"] if v["name"] == mount["name"])
    (secret,) = volume["secret"]
    assert secret["secret"] == "${google_secret_manager_secret.run_monitoring.secret_id}"
    (item,) = secret["items"]
    assert item["path"] == "config.yaml"
    # The version itself: a configuration changed in terraform makes a new revision.
    assert item["version"] == "${google_secret_manager_secret_version.run_monitoring.version}"


def test_gateway_account_may_read_the_sidecar_config_before_the_service_deploys() -> None:
    module = _gateway().module
    grant = module.resources[("google_secret_manager_secret_iam_member", "run_monitoring")]
    assert grant["role"] == "roles/secretmanager.secretAccessor"
    assert grant["member"] == "serviceAccount:${var.service_account_email}"
    assert grant["secret_id"] == "${google_secret_manager_secret.run_monitoring.secret_id}"
    (template,) = _service()["template"]
    assert template["service_account"] == "${var.service_account_email}"
    # Cloud Run checks, as it deploys, that the service account can read each mounted secret.
    assert "${google_secret_manager_secret_iam_member.run_monitoring}" in _service()["depends_on"]


def test_app_check_settings_reach_the_gateway_env_off_by_default() -> None:
    module = _gateway().module
    defaults = {name: module.variables[name]["default"] for name in ("firebase_app_id", "app_check_site_key")}
    assert defaults == {"firebase_app_id": "", "app_check_site_key": ""}
    assert module.variables["app_check_enforced"]["default"] is False
    env = module.locals["env"]
    assert env["FIREBASE_APP_ID"] == "${var.firebase_app_id}"
    assert env["APP_CHECK_SITE_KEY"] == "${var.app_check_site_key}"
    assert env["APP_CHECK_ENFORCED"] == "${tostring(var.app_check_enforced)}"
    # tostring(false) is what the gateway reads as App Check off.
    assert not load_config({"GOOGLE_CLOUD_PROJECT": "p", "APP_CHECK_ENFORCED": "false"}).app_check_enforced
