"""Who calls the functions, at which URL, with which audience, and from when on. The
three internal-only functions take traffic only from Pub/Sub push and Cloud Tasks, which
Cloud Run counts as internal only when they call the default run.app URL, not a custom
domain such as cloudfunctions.net ("Restrict network ingress for Cloud Run"), and Cloud Run
accepts an ID token whose audience is its run.app URL ("Set custom audiences"). And no
caller may exist before the function it calls: a push subscription or a gateway that goes
live first fails requests, or, for commands published before the commands topic has its
subscription, loses them. The emulators honour neither rule, so only this holds them."""

from __future__ import annotations

from typing import Any

import pytest
from google.cloud import tasks_v2

from devstack import stack
from tests.infra import tfgraph, tfmodel
from tests.infra.tfmodel import TERRAFORM

# The project number as terraform knows it at plan time (root main.tf's data source).
PROJECT_NUMBER = "${data.google_project.main.number}"
# Project numbers are 12 digits; Cloud Run's deterministic URL exists only while
# "<service name>-<project number>" fits one DNS label ("Invoke with an HTTPS request").
SAMPLE_PROJECT_NUMBER = "123456789012"
DNS_LABEL_MAX = 63
FUNCTIONS = "module.functions.google_cloudfunctions2_function"
INVOKERS = "module.functions.google_cloud_run_v2_service_iam_member.invoker"


def _functions() -> dict[str, tfmodel.Instance]:
    functions = tfmodel.everywhere("google_cloudfunctions2_function")
    return {function.get("build_config.entry_point"): function for function in functions}


def _run_app_url(function: tfmodel.Instance) -> str:
    """Cloud Run's deterministic URL: https://SERVICE_NAME-PROJECT_NUMBER.REGION.run.app."""
    return f"https://{function.get('name')}-{PROJECT_NUMBER}.{function.get('location')}.run.app"


def _push_subscriptions() -> list[tfmodel.Instance]:
    found = [i for i in tfmodel.everywhere("google_pubsub_subscription") if i.raw("push_config")]
    assert {i.get("name") for i in found} == {stack.COMMANDS_SUBSCRIPTION, stack.DEAD_LETTER_SUBSCRIPTION}
    return found


# -- the documented URL and audience ------------------------------------------------------


def test_terraform_hands_out_each_function_url_in_cloud_runs_deterministic_form() -> None:
    top = tfmodel.root()
    assert top.module.data[("google_project", "main")]["project_id"] == "${var.project_id}"
    urls = tfmodel.evaluate("${module.functions.urls}", top)
    assert urls == {entry_point: _run_app_url(f) for entry_point, f in _functions().items()}


def test_every_function_name_leaves_room_for_the_deterministic_url() -> None:
    for entry_point, function in _functions().items():
        label = f"{function.get('name')}-{SAMPLE_PROJECT_NUMBER}"
        assert len(label) <= DNS_LABEL_MAX, f"{entry_point}: {label} has no deterministic URL"
        # A longer name_prefix is refused at plan, where the real project number is known.
        precondition = function.raw("lifecycle.precondition.condition")
        assert f"<= {DNS_LABEL_MAX}" in str(precondition), entry_point


def test_no_caller_is_given_a_cloudfunctions_net_url() -> None:
    code = [
        f"{path.relative_to(TERRAFORM)}:{number}"
        for path in tfmodel.tf_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "cloudfunctions.net" in line.split("#", 1)[0]
    ]
    assert not code, f"internal-only functions are reached only at run.app: {code}"


@pytest.mark.parametrize("subscription", _push_subscriptions(), ids=lambda i: str(i.get("name")))
def test_pubsub_pushes_to_on_command_at_its_run_app_url_and_signs_for_it(
    subscription: tfmodel.Instance,
) -> None:
    on_command = _run_app_url(_functions()["on_command"])
    assert subscription.get("push_config.push_endpoint") == on_command
    assert subscription.get("push_config.oidc_token.audience") == on_command


class _RecordingTasksClient:
    """Stands in for tasks_v2.CloudTasksClient: keeps the tasks the adapter creates."""

    queue_path = staticmethod(tasks_v2.CloudTasksClient.queue_path)

    def __init__(self) -> None:
        self.created: list[tasks_v2.Task] = []

    def create_task(self, parent: str, task: tasks_v2.Task) -> None:
        self.created.append(task)


def _functions_env_on_a_project() -> dict[str, str]:
    """The functions' env as terraform sets it, on a project with a sample number."""
    env: dict[str, Any] = _functions()["on_command"].get("service_config.environment_variables")
    resolved = {}
    for name, value in env.items():
        value = str(value).replace(PROJECT_NUMBER, SAMPLE_PROJECT_NUMBER)
        resolved[name] = f"https://unresolved.invalid/{name}" if "${" in value else value
    return resolved


def test_functions_create_tasks_for_the_targets_run_app_urls_signed_for_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vocabquiz.adapters import tasks
    from vocabquiz.service.config import load_config
    from vocabquiz.service.schedule import flush_request, timer_request

    client = _RecordingTasksClient()
    monkeypatch.setattr(tasks_v2, "CloudTasksClient", lambda: client)
    config = load_config(_functions_env_on_a_project())
    queue = tasks.CloudTasksQueue(config)
    queue.create(flush_request(config, "session", 0))
    queue.create(timer_request(config, "session", "reveal", 0, 0))

    flush, timer = (
        _run_app_url(_functions()[name]).replace(PROJECT_NUMBER, SAMPLE_PROJECT_NUMBER)
        for name in ("flush_leaderboard", "advance_question")
    )
    sent = [(t.http_request.url, t.http_request.oidc_token.audience) for t in client.created]
    assert sent == [(flush, flush), (timer, timer)]


# -- no caller before the function it calls -------------------------------------------------


def test_no_push_subscription_exists_before_the_function_it_pushes_to_admits_its_caller() -> None:
    for subscription in _push_subscriptions():
        address = f"module.pubsub.google_pubsub_subscription.{subscription.name}"
        waits = tfgraph.waits_for(address)
        missing = {f"{FUNCTIONS}.main", INVOKERS} - waits
        assert not missing, f"{address} can be created before {sorted(missing)}"


def test_the_gateway_goes_live_only_after_the_functions_and_the_command_subscriptions() -> None:
    waits = tfgraph.waits_for("module.gateway.google_cloud_run_v2_service.main")
    needed = {
        f"{FUNCTIONS}.main",
        f"{FUNCTIONS}.public",
        INVOKERS,
        *(f"module.pubsub.google_pubsub_subscription.{s.name}" for s in _push_subscriptions()),
    }
    assert not needed - waits, f"the gateway can go live before {sorted(needed - waits)}"


def test_terraform_can_order_the_configuration_there_is_no_dependency_cycle() -> None:
    found = tfgraph.cycle()
    assert found is None, "terraform refuses a cycle: " + " -> ".join(found or [])
