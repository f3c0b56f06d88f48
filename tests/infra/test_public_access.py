"""Browsers reach two services, the gateway and the host API. By default they are public
by an allUsers invoker grant; where an organisation policy (domain restricted sharing)
forbids allUsers grants, `public_access = "invoker_check_disabled"` makes them public with
Cloud Run's invoker check off instead, and grants allUsers nothing (docs/deploy.md)."""

from __future__ import annotations

from typing import Any

from tests.infra import tfmodel

GATEWAY_INPUTS = ("invokers", "invoker_iam_disabled")


def _root(public_access: str | None) -> tfmodel.Scope:
    top = tfmodel.root()
    if public_access is None:
        return top
    # The root module as a tfvars file setting public_access would instantiate it.
    caller = tfmodel.Scope(top.module, {}, None)
    return tfmodel.Scope(top.module, {"public_access": public_access}, caller)


def _inputs(scope: tfmodel.Scope, call: str, *names: str) -> dict[str, Any]:
    arguments = scope.module.calls[call]
    return {name: tfmodel.evaluate(arguments[name], scope) for name in names}


def _public_members(scope: tfmodel.Scope) -> list[str]:
    gateway = _inputs(scope, "gateway", "invokers")["invokers"]
    functions = _inputs(scope, "functions", "invokers")["invokers"]
    members = list(gateway.values()) + [m for ms in functions.values() for m in ms.values()]
    return [member for member in members if member in ("allUsers", "allAuthenticatedUsers")]


def test_by_default_browsers_reach_both_public_services_by_an_all_users_grant() -> None:
    scope = _root(None)
    assert _public_members(scope) == ["allUsers", "allUsers"]
    assert _inputs(scope, "gateway", "invoker_iam_disabled") == {"invoker_iam_disabled": False}
    assert _inputs(scope, "functions", "public_invoker_check") == {"public_invoker_check": True}


def test_where_all_users_grants_are_forbidden_none_is_made_and_the_invoker_check_is_off() -> None:
    scope = _root("invoker_check_disabled")
    assert _public_members(scope) == []
    assert _inputs(scope, "gateway", "invoker_iam_disabled") == {"invoker_iam_disabled": True}
    assert _inputs(scope, "functions", "public_invoker_check") == {"public_invoker_check": False}


def test_the_gateway_module_passes_the_switch_to_cloud_run() -> None:
    gateway = tfmodel.load(tfmodel.MODULES / "gateway")
    (service,) = gateway.resources_of("google_cloud_run_v2_service").values()
    assert service["invoker_iam_disabled"] == "${var.invoker_iam_disabled}"


def test_the_host_api_has_its_invoker_check_turned_off_after_each_deploy() -> None:
    """A function cannot set invoker_iam_disabled (provider issue 23360): gcloud does it
    on the function's Cloud Run service, again whenever a deploy makes a new revision."""
    functions = tfmodel.load(tfmodel.MODULES / "functions")
    (step,) = functions.resources_of("terraform_data").values()
    assert "service_config[0].revision if !var.public_invoker_check" in step["for_each"]
    assert step["triggers_replace"] == ["${each.value}"]
    command = step["provisioner"][0]["local-exec"]["command"]
    assert command.startswith("gcloud run services update ${local.service_names[each.key]} ")
    assert "--no-invoker-iam-check" in command and "--region=${var.region}" in command


def test_the_variable_takes_exactly_the_two_ways_and_defaults_to_the_grant() -> None:
    spec = tfmodel.load(tfmodel.TERRAFORM).variables["public_access"]
    assert spec["default"] == "allUsers"
    condition = spec["validation"][0]["condition"]
    assert "contains([allUsers, invoker_check_disabled], var.public_access)" in condition
