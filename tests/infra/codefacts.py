"""What the code says it needs from the cloud, read from the source itself: the
environment variables each config module reads, the functions-framework entry points,
and the topics and subscriptions the local stack provisions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from devstack import stack

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_CONFIG = ROOT / "vocabquiz" / "service" / "config.py"
GATEWAY_CONFIG = ROOT / "gateway" / "config.py"
FUNCTIONS_MAIN = ROOT / "functions" / "main.py"
PROVISION = ROOT / "local" / "devstack" / "provision.py"

_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")
_ENV_MAPPINGS = ("env", "environ")


def _is_env(node: ast.expr) -> bool:
    """`env`, `environ` or `os.environ`: the mappings config modules read."""
    if isinstance(node, ast.Name):
        return node.id in _ENV_MAPPINGS
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def env_reads(path: Path) -> set[str]:
    """Every variable name the module reads: `env.get("X")`, `env["X"]`, a name passed
    with the environment to a helper, and names listed in tuples or lists of variable
    names (e.g. a `_REQUIRED` tuple it loops over)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "getenv")
            and _is_env(node.func.value)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
        elif (
            isinstance(node, ast.Subscript)
            and _is_env(node.value)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            names.add(node.slice.value)
        elif isinstance(node, ast.Call) and any(_is_env(argument) for argument in node.args):
            # A helper handed the environment and a name: `_seconds_of_ms(env, "X_MS", ...)`.
            names.update(
                str(argument.value)
                for argument in node.args
                if isinstance(argument, ast.Constant)
                and isinstance(argument.value, str)
                and _ENV_NAME.match(argument.value)
            )
        elif isinstance(node, (ast.Tuple, ast.List)) and node.elts:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(values) == len(node.elts) and all(
                isinstance(v, str) and _ENV_NAME.match(v) for v in values
            ):
                names.update(str(v) for v in values)
    return names


def env_defaults(path: Path) -> dict[str, str]:
    """Literal defaults: `env.get("X", "default")` gives {"X": "default"}."""
    defaults = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and _is_env(node.func.value)
            and len(node.args) == 2
            and isinstance(key := node.args[0], ast.Constant)
            and isinstance(default := node.args[1], ast.Constant)
            and isinstance(key.value, str)
            and isinstance(default.value, str)
        ):
            defaults[key.value] = default.value
    return defaults


def entry_points(path: Path = FUNCTIONS_MAIN) -> set[str]:
    """Module-level functions decorated with @functions_framework.<kind>."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "functions_framework"
            ):
                found.add(node.name)
    return found


def _stack_value(node: ast.expr) -> str:
    """Evaluate a name expression from provision.py: a literal, `s.CONSTANT` (devstack.stack)
    or an f-string of those."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute) and hasattr(stack, node.attr):
        return str(getattr(stack, node.attr))
    if isinstance(node, ast.Name) and hasattr(stack, node.id):
        return str(getattr(stack, node.id))
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            inner = value.value if isinstance(value, ast.FormattedValue) else value
            parts.append(_stack_value(inner))
        return "".join(parts)
    raise AssertionError(
        f"local/devstack/provision.py: cannot read a resource name from `{ast.unparse(node)}`; "
        "keep names as devstack.stack constants or f-strings of them"
    )


def provisioned_subscriptions() -> set[str]:
    """Names passed to `subscription_path(project, name)` in local/devstack/provision.py."""
    names = set()
    for node in ast.walk(ast.parse(PROVISION.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "subscription_path"
            and len(node.args) == 2
        ):
            names.add(_stack_value(node.args[1]))
    return names


def provisioned_topics() -> set[str]:
    """devstack.stack `*_TOPIC` constants: the topics provision.py creates and the code uses."""
    return {str(value) for name, value in vars(stack).items() if name.endswith("_TOPIC")}


def local_queues() -> set[str]:
    """The queues the local stack creates (devstack.stack constants)."""
    flush = {f"{stack.FLUSH_QUEUE_PREFIX}-{i}" for i in range(stack.FLUSH_QUEUE_COUNT)}
    return {stack.TIMER_QUEUE, *flush}


def direct_env_reads(*packages: str) -> list[str]:
    """`os.environ` / `os.getenv` uses outside the config modules, as `path:line`."""
    pattern = re.compile(r"\bos\.(environ|getenv)\b|\bfrom os import\b.*\b(environ|getenv)\b")
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "config.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    return found


def gateway_subscription_infix() -> str:
    """What gateway/pubsub.py puts between the events topic and the instance id in the
    name of each instance's own subscription (f"{topic}-gw-{gateway_id}")."""
    source = (ROOT / "gateway" / "pubsub.py").read_text()
    match = re.search(r'f"\{topic\}([^{"]+)\{gateway_id\}"', source)
    assert match, 'gateway/pubsub.py no longer names subscriptions f"{topic}<infix>{gateway_id}"'
    return match.group(1)
