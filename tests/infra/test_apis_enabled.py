"""A first apply enables the API of every resource it creates: a resource whose API is off
fails with 403 SERVICE_DISABLED. Each google resource type terraform declares maps to its
API here; a new kind of resource must be added to the map (and its API to the root
module's services), or this test fails."""

from __future__ import annotations

from tests.infra import tfmodel

# Resource type prefix -> the API that serves it (the longest matching prefix wins).
API_OF = {
    "google_apikeys_": "apikeys.googleapis.com",
    "google_artifact_registry_": "artifactregistry.googleapis.com",
    "google_cloud_run_v2_": "run.googleapis.com",
    "google_cloud_tasks_": "cloudtasks.googleapis.com",
    "google_cloudfunctions2_": "cloudfunctions.googleapis.com",
    "google_firebase_app_check_": "firebaseappcheck.googleapis.com",
    "google_firebase_project": "firebase.googleapis.com",
    "google_firebase_web_app": "firebase.googleapis.com",
    "google_firebaserules_": "firebaserules.googleapis.com",
    "google_firestore_": "firestore.googleapis.com",
    "google_identity_platform_": "identitytoolkit.googleapis.com",
    "google_logging_": "logging.googleapis.com",
    "google_monitoring_": "monitoring.googleapis.com",
    "google_project_iam_": "cloudresourcemanager.googleapis.com",
    "google_project_service": "serviceusage.googleapis.com",
    "google_pubsub_": "pubsub.googleapis.com",
    "google_recaptcha_enterprise_": "recaptchaenterprise.googleapis.com",
    "google_secret_manager_": "secretmanager.googleapis.com",
    "google_service_account": "iam.googleapis.com",
    "google_storage_": "storage.googleapis.com",
}
# Enabled by hand before terraform can enable anything (docs/deploy.md).
ENABLED_BEFORE = {"serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com"}


def _api_of(kind: str) -> str:
    prefixes = [prefix for prefix in API_OF if kind.startswith(prefix)]
    assert prefixes, f"{kind}: which API serves it? add it to API_OF"
    return API_OF[max(prefixes, key=len)]


def _enabled() -> set[str]:
    scope = tfmodel.root()
    apis = tfmodel.evaluate(scope.module.locals["services"], scope)
    app_check = tfmodel.evaluate(scope.module.locals["app_check_services"], scope)
    return set(apis) | set(app_check) | ENABLED_BEFORE


def test_every_resource_terraform_creates_has_its_api_enabled() -> None:
    kinds = {
        kind
        for path in tfmodel.module_dirs()
        for kind, _ in tfmodel.load(path).resources
        if kind.startswith("google_")
    }
    missing = {kind: _api_of(kind) for kind in kinds if _api_of(kind) not in _enabled()}
    assert not missing, f"APIs not enabled for: {missing}"
