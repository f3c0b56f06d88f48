"""Code and infrastructure held together: every topic, subscription, queue, function
entry point and environment variable the code uses is declared in terraform/, and
terraform declares nothing the code does not use. Names are read from the code
(devstack.stack, the config modules, functions/main.py), never copied into this file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from devstack import stack
from tests.infra import codefacts, tfmodel
from tests.infra.tfmodel import ROOT, TERRAFORM, Unresolved

# Variables the code reads that must stay unset in the cloud, and why.
GATEWAY_UNSET = {
    "PORT": "Cloud Run sets PORT itself and refuses it as a user variable",
    "GATEWAY_ID": "each instance derives its own id, which names its own events subscription; "
    "a shared value would make every instance share (and delete) one subscription",
    "QUIZ_FAULTS": "injects failures for the fault runs; with QUIZ_ENV=production the gateway "
    "refuses to start with it set",
}
FUNCTIONS_UNSET = {
    "QUIZ_FAULTS": "injects failures for the fault tests; with QUIZ_ENV=production the "
    "functions refuse every command rather than inject one",
}
# Any *_EMULATOR_HOST points a client library at a local emulator; a production gateway
# refuses to start with one set, and the functions would silently talk to nothing.
LOCAL_ONLY_SUFFIX = "_EMULATOR_HOST"

FUNCTIONS_MODULE = TERRAFORM / "modules" / "functions" / "main.tf"
GATEWAY_MODULE = TERRAFORM / "modules" / "gateway" / "main.tf"


def _scope(name: str) -> tfmodel.Scope:
    return tfmodel.child(tfmodel.root(), name)


def _env(module: str) -> dict[str, Any]:
    """The environment terraform gives a module's workloads (local.env), evaluated."""
    scope = _scope(module)
    env = tfmodel.evaluate(scope.module.locals["env"], scope)
    assert isinstance(env, dict), f"local.env of {module} is not a map: {env!r}"
    return env


def _names(kind: str) -> dict[str, str]:
    """Declared name => resource address, for every instance of `kind`."""
    found = {}
    for instance in tfmodel.everywhere(kind):
        name = instance.get("name")
        assert not isinstance(name, Unresolved), f"{kind}.{instance.name}: name {name} is not static"
        found[name] = f"{kind}.{instance.name}"
    return found


def _referenced_resource(expression: str, kind: str) -> str:
    match = re.fullmatch(rf"\$\{{{kind}\.(\w+)\.(?:id|name)\}}", expression or "")
    assert match, f"expected a reference to a {kind}, got {expression!r}"
    return match.group(1)


def _dead_letter_topics() -> set[str]:
    """Topics some subscription dead-letters into: infrastructure, not code."""
    found = set()
    for instance in tfmodel.everywhere("google_pubsub_subscription"):
        reference = instance.raw("dead_letter_policy.dead_letter_topic")
        if reference:
            resource = _referenced_resource(reference, "google_pubsub_topic")
            scope = instance.scope
            body = scope.module.resources[("google_pubsub_topic", resource)]
            found.add(tfmodel.evaluate(body["name"], scope))
    return found


def _subscription_topic(instance: tfmodel.Instance) -> str:
    resource = _referenced_resource(instance.raw("topic"), "google_pubsub_topic")
    body = instance.scope.module.resources[("google_pubsub_topic", resource)]
    return str(tfmodel.evaluate(body["name"], instance.scope))


def _code_env(env: dict[str, Any]) -> dict[str, str]:
    """Terraform's env as a process would see it: unset nulls, placeholders for values
    only known after apply (URLs, account emails)."""
    return {
        name: (f"https://unresolved.invalid/{name}" if isinstance(value, Unresolved) else str(value))
        for name, value in env.items()
        if value is not None
    }


# -- topics and subscriptions -------------------------------------------------------------


def test_terraform_declares_every_topic_the_code_uses() -> None:
    declared = _names("google_pubsub_topic")
    code = codefacts.provisioned_topics()
    code |= {
        value
        for path in (codefacts.FUNCTIONS_CONFIG, codefacts.GATEWAY_CONFIG)
        for name, value in codefacts.env_defaults(path).items()
        if name.endswith("_TOPIC")
    }
    missing = code - set(declared)
    assert not missing, f"the code uses topics terraform does not declare: {sorted(missing)}"


def test_terraform_declares_no_topic_beyond_the_code_and_its_dead_letters() -> None:
    declared = set(_names("google_pubsub_topic"))
    extra = declared - codefacts.provisioned_topics() - _dead_letter_topics()
    assert not extra, f"terraform declares topics nothing uses: {sorted(extra)}"


def test_terraform_declares_every_subscription_the_local_stack_provisions() -> None:
    declared = _names("google_pubsub_subscription")
    missing = codefacts.provisioned_subscriptions() - set(declared)
    assert not missing, (
        f"local/devstack/provision.py creates subscriptions terraform lacks: {sorted(missing)}"
    )


def test_terraform_declares_no_subscription_beyond_the_local_stack_and_dead_letters() -> None:
    dead_letters = _dead_letter_topics()
    extra = [
        instance.get("name")
        for instance in tfmodel.everywhere("google_pubsub_subscription")
        if instance.get("name") not in codefacts.provisioned_subscriptions()
        and _subscription_topic(instance) not in dead_letters
    ]
    assert not extra, f"terraform declares subscriptions nothing uses: {extra}"


def test_terraform_leaves_the_per_instance_gateway_subscriptions_to_the_gateway() -> None:
    events_topic = codefacts.env_defaults(codefacts.GATEWAY_CONFIG)["EVENTS_TOPIC"]
    runtime_prefix = events_topic + codefacts.gateway_subscription_infix()
    clashing = [name for name in _names("google_pubsub_subscription") if name.startswith(runtime_prefix)]
    assert not clashing, f"gateway instances create and delete these themselves: {clashing}"


def _subscription(name: str) -> tfmodel.Instance:
    (instance,) = [i for i in tfmodel.everywhere("google_pubsub_subscription") if i.get("name") == name]
    return instance


def test_commands_reach_on_command_by_an_authenticated_push_with_a_dead_letter_topic() -> None:
    instance = _subscription(stack.COMMANDS_SUBSCRIPTION)
    endpoint = instance.get("push_config.push_endpoint")
    assert _service_name("on_command") in endpoint, f"pushes to {endpoint}"
    assert instance.get("push_config.oidc_token.audience") == endpoint
    assert instance.get("push_config.oidc_token.service_account_email")
    assert instance.raw("dead_letter_policy.dead_letter_topic"), "no dead-letter policy"
    assert _subscription_topic(instance) == codefacts.env_defaults(codefacts.GATEWAY_CONFIG)["COMMANDS_TOPIC"]


def test_dead_letters_are_pushed_to_on_command_again_with_no_dead_letter_policy_of_their_own() -> None:
    commands, replay = (
        _subscription(stack.COMMANDS_SUBSCRIPTION),
        _subscription(stack.DEAD_LETTER_SUBSCRIPTION),
    )
    assert _subscription_topic(replay) == stack.DEAD_LETTER_TOPIC
    assert replay.get("push_config.push_endpoint") == commands.get("push_config.push_endpoint")
    assert replay.get("push_config.oidc_token.audience") == commands.get("push_config.oidc_token.audience")
    assert replay.get("push_config.oidc_token.service_account_email")
    assert replay.raw("dead_letter_policy") is None, "a dead letter must not be dead-lettered again"


def test_the_local_pushers_deliver_and_dead_letter_as_terraform_configures() -> None:
    commands, replay = (
        _subscription(stack.COMMANDS_SUBSCRIPTION),
        _subscription(stack.DEAD_LETTER_SUBSCRIPTION),
    )
    assert commands.get("ack_deadline_seconds") == stack.COMMANDS_ACK_DEADLINE_S
    assert commands.get("retry_policy.minimum_backoff") == f"{stack.COMMANDS_MINIMUM_BACKOFF_S}s"
    assert commands.get("retry_policy.maximum_backoff") == f"{stack.COMMANDS_MAXIMUM_BACKOFF_S}s"
    assert commands.get("dead_letter_policy.max_delivery_attempts") == stack.COMMANDS_MAX_DELIVERY_ATTEMPTS
    assert replay.get("retry_policy.minimum_backoff") == f"{stack.DEAD_LETTER_MINIMUM_BACKOFF_S}s"
    assert replay.get("retry_policy.maximum_backoff") == f"{stack.DEAD_LETTER_MAXIMUM_BACKOFF_S}s"


# -- queues -------------------------------------------------------------------------------


def test_terraform_declares_exactly_the_queues_the_code_creates_tasks_in() -> None:
    from vocabquiz.service.config import load_config
    from vocabquiz.service.schedule import flush_request, timer_request

    config = load_config(_code_env(_env("functions")))
    used = {flush_request(config, f"session-{i}", 0).queue for i in range(2000)}
    used |= {flush_request(config, f"session-{i}", 0, snapshot=True).queue for i in range(2000)}
    used.add(timer_request(config, "session", "reveal", 0, 0).queue)
    declared = set(_names("google_cloud_tasks_queue"))
    assert used - declared == set(), f"the code creates tasks in undeclared queues: {sorted(used - declared)}"
    assert declared - used == set(), (
        f"terraform declares queues the code never uses: {sorted(declared - used)}"
    )


def test_terraform_queues_match_the_local_stack() -> None:
    assert set(_names("google_cloud_tasks_queue")) == codefacts.local_queues()


def test_functions_look_for_the_queues_where_terraform_creates_them() -> None:
    locations = {i.get("location") for i in tfmodel.everywhere("google_cloud_tasks_queue")}
    assert locations == {_env("functions")["TASKS_LOCATION"]}


def test_each_flush_queue_dispatches_500_tasks_per_second() -> None:
    flush_prefix = _env("functions")["FLUSH_QUEUE_PREFIX"]
    rates = {
        i.get("name"): i.get("rate_limits.max_dispatches_per_second")
        for i in tfmodel.everywhere("google_cloud_tasks_queue")
        if i.get("name").startswith(f"{flush_prefix}-")
    }
    assert rates and set(rates.values()) == {500}, rates


def test_every_queue_bounds_its_retries() -> None:
    for instance in tfmodel.everywhere("google_cloud_tasks_queue"):
        assert instance.get("retry_config.max_retry_duration"), instance.get("name")


# -- functions ----------------------------------------------------------------------------


def _service_name(entry_point: str) -> str:
    """The name terraform gives the function (and its Cloud Run service) of an entry point."""
    (name,) = [
        i.get("name")
        for i in tfmodel.everywhere("google_cloudfunctions2_function")
        if i.get("build_config.entry_point") == entry_point
    ]
    assert isinstance(name, str) and not isinstance(name, Unresolved), name
    return name


def _deployed_entry_points() -> dict[str, str]:
    return {
        i.get("build_config.entry_point"): i.name
        for i in tfmodel.everywhere("google_cloudfunctions2_function")
    }


def test_terraform_deploys_exactly_the_entry_points_main_py_defines() -> None:
    deployed = set(_deployed_entry_points())
    code = codefacts.entry_points()
    assert code - deployed == set(), f"functions/main.py defines undeployed functions: {code - deployed}"
    assert deployed - code == set(), f"terraform deploys entry points main.py lacks: {deployed - code}"


def test_terraform_deploys_the_functions_the_local_stack_runs() -> None:
    from devstack.endpoints import FUNCTIONS

    assert set(_deployed_entry_points()) == set(FUNCTIONS)


def test_only_the_host_api_accepts_traffic_from_outside_google_cloud() -> None:
    ingress = {
        i.get("build_config.entry_point"): i.get("service_config.ingress_settings")
        for i in tfmodel.everywhere("google_cloudfunctions2_function")
    }
    open_ones = {name for name, setting in ingress.items() if setting == "ALLOW_ALL"}
    assert open_ones == {"sessions_api"}, ingress


def test_every_function_runs_with_the_environment_terraform_declares() -> None:
    for instance in tfmodel.everywhere("google_cloudfunctions2_function"):
        assert "local.env" in str(instance.raw("service_config.environment_variables")), instance.key


def test_functions_env_sets_every_variable_functions_config_reads() -> None:
    reads = codefacts.env_reads(codefacts.FUNCTIONS_CONFIG)
    needed = {name for name in reads if not name.endswith(LOCAL_ONLY_SUFFIX)} - set(FUNCTIONS_UNSET)
    missing = needed - set(_env("functions"))
    assert not missing, (
        f"vocabquiz/service/config.py reads {sorted(missing)}, which terraform does not set: add each to "
        f"local.env in {FUNCTIONS_MODULE.relative_to(ROOT)} (null keeps the code's default), or to "
        "FUNCTIONS_UNSET in this test with the reason it must stay unset in the cloud"
    )


def test_functions_env_sets_nothing_functions_config_does_not_read() -> None:
    unread = set(_env("functions")) - codefacts.env_reads(codefacts.FUNCTIONS_CONFIG)
    assert not unread, (
        f"terraform sets {sorted(unread)} for the functions, which vocabquiz/service/config.py never reads"
    )


def test_functions_env_points_at_no_emulator() -> None:
    emulated = [name for name in _env("functions") if name.endswith(LOCAL_ONLY_SUFFIX)]
    assert not emulated


def test_functions_env_loads_and_names_declared_resources() -> None:
    from vocabquiz.service.config import load_config

    env = _env("functions")
    config = load_config(_code_env(env))
    assert config.events_topic in _names("google_pubsub_topic")
    assert config.flush_queue_count == len(
        [q for q in _names("google_cloud_tasks_queue") if q.startswith(f"{config.flush_queue_prefix}-")]
    )
    # The task targets are the two task-handling functions (vocabquiz/adapters/tasks.py).
    assert _service_name("flush_leaderboard") in env["FLUSH_URL"]
    assert _service_name("advance_question") in env["TIMER_URL"]


def _function_invokers() -> dict[str, dict[str, str]]:
    """The functions module's invokers, as the root module passes them (members raw: the
    accounts' emails are only known after apply)."""
    top = tfmodel.root()
    invokers = top.module.calls["functions"]["invokers"]
    return {
        name: members if isinstance(members, dict) else tfmodel.evaluate(members, top)
        for name, members in invokers.items()
    }


def test_task_targets_admit_exactly_the_account_cloud_tasks_signs_as() -> None:
    call = tfmodel.load(TERRAFORM).calls["functions"]
    signer = call["tasks_service_account_email"]  # becomes TASKS_SERVICE_ACCOUNT
    invokers = _function_invokers()
    admitted = {
        entry_point for entry_point, members in invokers.items() for m in members.values() if signer in m
    }
    assert admitted == {"flush_leaderboard", "advance_question"}, invokers


def test_on_command_admits_exactly_the_account_pubsub_pushes_as() -> None:
    pusher = tfmodel.load(TERRAFORM).calls["pubsub"]["push_service_account_email"]
    invokers = _function_invokers()
    admitted = {
        entry_point for entry_point, members in invokers.items() for m in members.values() if pusher in m
    }
    assert admitted == {"on_command"}, invokers


def test_no_code_reads_the_environment_outside_its_config_module() -> None:
    found = codefacts.direct_env_reads("functions", "gateway", "vocabquiz")
    assert not found, (
        "read configuration in vocabquiz/service/config.py or gateway/config.py, where tests/infra "
        f"holds it to terraform: {found}"
    )


# -- gateway ------------------------------------------------------------------------------


def test_gateway_env_sets_every_variable_gateway_config_reads() -> None:
    reads = codefacts.env_reads(codefacts.GATEWAY_CONFIG)
    needed = {name for name in reads if not name.endswith(LOCAL_ONLY_SUFFIX)} - set(GATEWAY_UNSET)
    missing = needed - set(_env("gateway"))
    assert not missing, (
        f"gateway/config.py reads {sorted(missing)}, which terraform does not set: add each to "
        f"local.env in {GATEWAY_MODULE.relative_to(ROOT)} (null keeps the code's default), or to "
        "GATEWAY_UNSET in this test with the reason it must stay unset in the cloud"
    )


def test_gateway_env_sets_nothing_gateway_config_does_not_read() -> None:
    unread = set(_env("gateway")) - codefacts.env_reads(codefacts.GATEWAY_CONFIG)
    assert not unread, f"terraform sets {sorted(unread)} for the gateway, which gateway/config.py never reads"


@pytest.mark.parametrize("name", sorted(GATEWAY_UNSET))
def test_gateway_env_leaves_unset_what_the_platform_or_instance_decides(name: str) -> None:
    assert name in codefacts.env_reads(codefacts.GATEWAY_CONFIG), f"{name} is no longer read: drop it here"
    assert name not in _env("gateway"), GATEWAY_UNSET[name]


def test_gateway_env_points_at_no_emulator() -> None:
    emulated = [name for name in _env("gateway") if name.endswith(LOCAL_ONLY_SUFFIX)]
    assert not emulated


def test_gateway_starts_in_production_with_declared_topics() -> None:
    from gateway.config import load_config

    config = load_config(_code_env(_env("gateway")))
    assert config.production
    topics = _names("google_pubsub_topic")
    assert config.commands_topic in topics
    assert config.events_topic in topics
    assert config.allowed_origins, "no browser origin may open a socket"


def test_gateway_runs_with_the_environment_terraform_declares() -> None:
    (service,) = tfmodel.everywhere("google_cloud_run_v2_service")
    assert "local.env" in json.dumps(service.raw("template.containers.dynamic"))


def test_gateway_keeps_sockets_open_an_hour_and_sticks_reconnects_to_an_instance() -> None:
    (service,) = tfmodel.everywhere("google_cloud_run_v2_service")
    assert service.get("template.timeout") == "3600s"
    assert service.get("template.session_affinity") is True
    assert service.get("template.max_instance_request_concurrency") >= 100


def test_gateway_probes_paths_the_gateway_answers() -> None:
    (service,) = tfmodel.everywhere("google_cloud_run_v2_service")
    server = (ROOT / "gateway" / "server.py").read_text()
    for probe, path in (("startup_probe", "/health/ready"), ("liveness_probe", "/health/live")):
        assert service.get(f"template.containers.{probe}.http_get.path") == path
        assert f'"{path}"' in server, f"gateway/server.py no longer answers {path}"


def test_web_client_socket_and_api_urls_are_outputs_on_the_gateway_origin() -> None:
    top = tfmodel.root()
    outputs = {name: tfmodel.evaluate(spec["value"], top) for name, spec in top.module.outputs.items()}
    web, wss = outputs["web_url"], outputs["wss_url"]
    assert wss.startswith("wss://") and wss.endswith("/ws")
    assert web.startswith("https://")
    assert web.removeprefix("https://").rstrip("/") == wss.removeprefix("wss://").removesuffix("/ws")
    assert _service_name("sessions_api") in outputs["api_url"]
    origins = top.module.locals["web_origins"]
    assert "${local.gateway_host}" in origins, "the gateway's own origin must be an allowed web origin"
    assert tfmodel.load(TERRAFORM).calls["gateway"]["allowed_origins"] == "${local.web_origins}"
    assert tfmodel.load(TERRAFORM).calls["functions"]["api_allowed_origins"] == "${local.web_origins}"


# -- firestore ----------------------------------------------------------------------------


def test_firestore_takes_indexes_and_rules_from_the_files_the_emulator_uses() -> None:
    scope = _scope("firestore")
    assert Path(scope.variable("indexes_file")).resolve() == ROOT / "firestore.indexes.json"
    assert Path(scope.variable("rules_file")).resolve() == ROOT / "firestore.rules"
    code = (TERRAFORM / "modules" / "firestore" / "main.tf").read_text()
    assert "jsondecode(file(var.indexes_file))" in code
    assert "file(var.rules_file)" in code


def test_firestore_indexes_file_is_in_firebase_cli_format() -> None:
    data = json.loads((ROOT / "firestore.indexes.json").read_text())
    assert set(data) == {"indexes", "fieldOverrides"}
    for index in data["indexes"]:
        assert {"collectionGroup", "queryScope", "fields"} <= set(index), index
        for field in index["fields"]:
            assert "fieldPath" in field and ({"order", "arrayConfig"} & set(field)), field
    for override in data["fieldOverrides"]:
        assert {"collectionGroup", "fieldPath"} <= set(override), override
