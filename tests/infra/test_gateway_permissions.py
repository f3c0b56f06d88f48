"""What the gateway may do in Pub/Sub: each instance creates, pulls and deletes its own
events subscription (gateway/pubsub.py), and since that subscription does not exist when
terraform runs, those rights are granted on the project and so reach every subscription.
What can be narrowed is: no permission the code does not use, and subscriptions attachable
to the events topic only. What cannot: Pub/Sub does not recognize resource attributes in
IAM Conditions (IAM docs, "Resource attributes for IAM Conditions", list Pub/Sub Lite, not
Pub/Sub), so a condition on the subscription name is no way to spare the command and
dead-letter subscriptions. The emulator checks no IAM at all, so only this holds them."""

from __future__ import annotations

import ast
import json
from typing import Any

from tests.infra import tfmodel
from tests.infra.tfmodel import ROOT, TERRAFORM

IAM = tfmodel.load(TERRAFORM / "modules" / "iam")
GATEWAY = "google_service_account.gateway"
CUSTOM_ROLE = "google_project_iam_custom_role.gateway_subscriptions"

# Pub/Sub access control, "Required permissions": what each client call needs, and where.
# (A subscription path helper needs nothing; an unknown call fails the test until added.)
CALL_PERMISSIONS: dict[str, set[tuple[str, str]]] = {
    "topic_path": set(),
    "subscription_path": set(),
    "create_subscription": {
        ("pubsub.subscriptions.create", "project"),
        ("pubsub.topics.attachSubscription", "topic"),
    },
    "subscribe": {("pubsub.subscriptions.consume", "subscription")},
    "pull": {("pubsub.subscriptions.consume", "subscription")},
    "acknowledge": {("pubsub.subscriptions.consume", "subscription")},
    "modify_ack_deadline": {("pubsub.subscriptions.consume", "subscription")},
    "seek": {("pubsub.subscriptions.consume", "subscription")},
    "get_subscription": {("pubsub.subscriptions.get", "subscription")},
    "update_subscription": {("pubsub.subscriptions.update", "subscription")},
    "delete_subscription": {("pubsub.subscriptions.delete", "subscription")},
}
# Pub/Sub's predefined roles that hold pubsub.topics.attachSubscription.
ATTACHING_ROLES = {"roles/pubsub.subscriber", "roles/pubsub.editor", "roles/pubsub.admin"}


def _own_subscription_calls() -> set[str]:
    """`self.client.<call>(...)` in gateway/pubsub.py's EventSubscription."""
    tree = ast.parse((ROOT / "gateway" / "pubsub.py").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "EventSubscription"]
    return {
        node.func.attr
        for node in ast.walk(cls)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and ast.unparse(node.func.value) == "self.client"
    }


def _custom_role_permissions() -> list[str]:
    role = IAM.resources[("google_project_iam_custom_role", "gateway_subscriptions")]
    return list(role["permissions"])


def _gateway_grants() -> dict[str, dict[str, Any]]:
    return {
        f"{kind}.{name}": body
        for (kind, name), body in IAM.resources.items()
        if kind.endswith(("_iam_member", "_iam_binding")) and GATEWAY in json.dumps(body)
    }


def test_the_gateway_project_role_holds_exactly_what_its_own_subscription_calls_need() -> None:
    calls = _own_subscription_calls()
    unknown = calls - set(CALL_PERMISSIONS)
    assert not unknown, f"gateway/pubsub.py calls {sorted(unknown)}: add what each needs to CALL_PERMISSIONS"
    # Everything not on a topic: the subscription does not exist yet when terraform grants.
    needed = {permission for call in calls for permission, on in CALL_PERMISSIONS[call] if on != "topic"}
    assert set(_custom_role_permissions()) == needed
    (grant,) = [g for g in _gateway_grants().values() if CUSTOM_ROLE in g["role"]]
    assert grant["project"] == "${var.project_id}"


def test_the_gateway_can_attach_subscriptions_to_the_events_topic_only() -> None:
    attaching = {
        address: grant
        for address, grant in _gateway_grants().items()
        if grant["role"] in ATTACHING_ROLES or CUSTOM_ROLE in grant["role"]
    }
    topics = {grant.get("topic") for grant in attaching.values() if grant["role"] in ATTACHING_ROLES}
    assert topics == {"${var.events_topic_name}"}, attaching
    assert "pubsub.topics.attachSubscription" not in _custom_role_permissions()


def test_no_pubsub_grant_hangs_on_a_resource_attribute_pubsub_never_sends() -> None:
    for path in tfmodel.module_dirs():
        module = tfmodel.load(path)
        for (kind, name), body in module.resources.items():
            conditions = json.dumps(body.get("condition", []))
            pubsub = "pubsub" in str(body.get("role", "")) or CUSTOM_ROLE in str(body.get("role", ""))
            assert not (pubsub and "resource." in conditions), (
                f"{path.name}: {kind}.{name} conditions a Pub/Sub grant on a resource attribute, which "
                "Pub/Sub does not provide: the grant would not narrow, or would not hold at all"
            )
