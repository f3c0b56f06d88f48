"""What a first `terraform apply` on a new project needs and the emulators cannot show:
the functions' gen2 builds read their source from Google's own gcf-v2-sources bucket, so
the build account needs a project-level storage grant (terraform-provider-google issue
20571), and IAM grants take a while to be seen, so no build may start before they settle."""

from __future__ import annotations

import json

from tests.infra import tfmodel
from tests.infra.tfmodel import TERRAFORM

IAM = tfmodel.load(TERRAFORM / "modules" / "iam")
BUILD_ACCOUNT = "google_service_account.functions_build"
# Cloud Run's "build service account" guide: what a custom build account needs.
DOCUMENTED_BUILD_ROLES = {
    "roles/logging.logWriter",
    "roles/artifactregistry.writer",
    "roles/storage.objectAdmin",
}


def _build_grants() -> dict[str, tuple[str, str]]:
    """resource address -> (role, scope) of every grant to the build account."""
    grants = {}
    for (kind, name), body in IAM.resources.items():
        if kind.endswith("_iam_member") and BUILD_ACCOUNT in str(body.get("member", "")):
            scope = "project" if kind == "google_project_iam_member" else kind
            grants[f"{kind}.{name}"] = (body["role"], scope)
    return grants


def test_the_build_account_holds_the_documented_roles_with_storage_on_the_project() -> None:
    grants = _build_grants()
    roles = {role for role, _ in grants.values()}
    assert roles >= DOCUMENTED_BUILD_ROLES, DOCUMENTED_BUILD_ROLES - roles
    assert ("roles/storage.objectAdmin", "project") in grants.values(), "gen2 reads gcf-v2-sources-*"


def test_functions_take_the_build_account_only_after_every_build_grant_settles() -> None:
    (wait,) = [body for (kind, _), body in IAM.resources.items() if kind == "time_sleep"]
    assert wait["create_duration"] == "60s"
    assert set(_build_grants()) <= {ref.strip("${}") for ref in wait["depends_on"]}
    output = json.dumps(IAM.outputs["functions_build_id"]["value"])
    assert "time_sleep.build_grants_settle" in output, "the functions must get the account from the wait"
    root = tfmodel.load(TERRAFORM)
    assert "module.iam.functions_build_id" in json.dumps(root.calls["functions"]["build_service_account_id"])


def test_alerts_on_log_based_metrics_wait_until_the_metrics_can_be_seen() -> None:
    monitoring = tfmodel.load(TERRAFORM / "modules" / "monitoring")
    (wait,) = monitoring.resources_of("time_sleep").values()
    assert int(wait["create_duration"].removesuffix("s")) >= 600, "the API says: up to 10 minutes"
    reading_log_metrics = {
        name: json.dumps(body)
        for name, body in monitoring.resources_of("google_monitoring_alert_policy").items()
        if "local.log_metric" in json.dumps(body)
    }
    assert reading_log_metrics, "no alert reads a log-based metric: this test guards nothing"
    for name, body in reading_log_metrics.items():
        assert "google_logging_metric." not in body, f"{name} names its metric directly, not after the wait"
        assert "time_sleep.log_metrics_visible.triggers" in body, name
    waited_for = json.dumps(wait["triggers"])
    for metric in monitoring.resources_of("google_logging_metric"):
        if any(f'triggers[\\"{metric}\\"]' in body for body in reading_log_metrics.values()):
            assert f"google_logging_metric.{metric}.name" in waited_for, metric
