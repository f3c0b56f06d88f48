"""A static reading of terraform/: each module parsed with python-hcl2, and a small
evaluator for the expressions that carry names (variables, locals, module inputs and
outputs, string templates, count and simple for_each), so tests can compare the names
terraform declares with the names the code uses. Anything it cannot evaluate comes back
as `Unresolved`, a string that still shows the expression."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from hcl2.api import load as hcl2_load

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
MODULES = TERRAFORM / "modules"


class Unresolved(str):
    """An expression the evaluator does not know the value of, e.g. `${module.iam.email}`."""


@dataclass
class Module:
    path: Path
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)

    def resources_of(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: body for (k, name), body in self.resources.items() if k == kind}


def tf_files() -> list[Path]:
    return sorted(TERRAFORM.rglob("*.tf"))


def module_dirs() -> list[Path]:
    return [TERRAFORM, *sorted(p for p in MODULES.iterdir() if p.is_dir())]


def parse(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return dict(hcl2_load(handle))


@cache
def load(path: Path) -> Module:
    module = Module(path)
    for tf in sorted(path.glob("*.tf")):
        parsed = parse(tf)
        for block in parsed.get("variable", []):
            module.variables.update(block)
        for block in parsed.get("locals", []):
            module.locals.update(block)
        for block in parsed.get("output", []):
            module.outputs.update(block)
        for block in parsed.get("module", []):
            module.calls.update(block)
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                for name, body in named.items():
                    module.resources[(kind, name)] = body
        for block in parsed.get("data", []):
            for kind, named in block.items():
                for name, body in named.items():
                    module.data[(kind, name)] = body
        module.terraform.extend(parsed.get("terraform", []))
    return module


# -- evaluation ---------------------------------------------------------------------------

_REF = re.compile(r"^(var|local)\.(\w+)((?:\.\w+|\[\"[^\"]*\"\])*)$")
_MODULE_OUTPUT = re.compile(r"^module\.(\w+)\.(\w+)((?:\.\w+|\[\"[^\"]*\"\])*)$")
_EACH = re.compile(r"^each\.(key|value)((?:\.\w+)*)$")
_FOR_FILTER = re.compile(r"^\{for (\w+) , (\w+) in (.+?) : \1 => \2(?: if (!?)\2\.(\w+))?\}$")
_CALL = re.compile(r"^(tostring)\((.*)\)$")


@dataclass(frozen=True)
class Scope:
    """Where an expression is evaluated: a module, the arguments its caller passed
    (evaluated lazily in the caller's scope; None at the root, where variables take
    their defaults) and the current count.index / each."""

    module: Module
    arguments: dict[str, Any] | None = None
    caller: Scope | None = None
    count_index: int | None = None
    each: tuple[Any, Any] | None = None

    def variable(self, name: str) -> Any:
        if self.arguments is not None and name in self.arguments:
            assert self.caller is not None
            return evaluate(self.arguments[name], self.caller)
        spec = self.module.variables.get(name)
        if spec is None:
            raise KeyError(f"{self.module.path}: no variable {name!r}")
        if "default" in spec:
            return spec["default"]
        return Unresolved(f"${{var.{name}}}")

    def base(self) -> Scope:
        return Scope(self.module, self.arguments, self.caller)

    def with_count(self, index: int) -> Scope:
        return Scope(self.module, self.arguments, self.caller, count_index=index)

    def with_each(self, key: Any, value: Any) -> Scope:
        return Scope(self.module, self.arguments, self.caller, each=(key, value))


def root() -> Scope:
    return Scope(load(TERRAFORM))


def child(scope: Scope, call_name: str) -> Scope:
    """The scope inside module `call_name` as the calling module instantiates it."""
    call = scope.module.calls[call_name]
    source = (scope.module.path / call["source"]).resolve()
    arguments = {
        key: value
        for key, value in call.items()
        if key not in ("source", "depends_on", "providers", "count", "for_each")
    }
    return Scope(load(source), arguments, scope.base())


_EVALUATING: set[tuple[Path, str]] = set()


def evaluate(value: Any, scope: Scope) -> Any:
    if isinstance(value, list):
        return [evaluate(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: evaluate(item, scope) for key, item in value.items()}
    if not isinstance(value, str):
        return value
    parts = list(_template_parts(value))
    if len(parts) == 1 and parts[0][0] == "expr":
        return _expression(parts[0][1], scope)
    rendered, known = [], True
    for kind, text in parts:
        if kind == "text":
            rendered.append(text)
            continue
        result = _expression(text, scope)
        if isinstance(result, (Unresolved, list, dict)) or result is None:
            known = False
            rendered.append(result if isinstance(result, Unresolved) else f"${{{text}}}")
        else:
            rendered.append(_to_string(result))
    joined = "".join(str(part) for part in rendered)
    return joined if known else Unresolved(joined)


def _template_parts(text: str) -> Iterator[tuple[str, str]]:
    """Split "a-${x}-b" into text and expression parts, matching braces."""
    i = 0
    while i < len(text):
        start = text.find("${", i)
        if start < 0:
            yield ("text", text[i:])
            return
        if start > i:
            yield ("text", text[i:start])
        depth, j = 0, start + 1
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        yield ("expr", text[start + 2 : j])
        i = j + 1


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _path(value: Any, accessors: str) -> Any:
    for match in re.finditer(r"\.(\w+)|\[\"([^\"]*)\"\]", accessors):
        key = match.group(1) or match.group(2)
        if isinstance(value, Unresolved):
            return Unresolved(f"{value}{match.group(0)}")
        if not isinstance(value, dict):
            return Unresolved(f"${{{value}{match.group(0)}}}")
        # An optional object attribute left out is null.
        value = value.get(key)
    return value


def _expression(text: str, scope: Scope) -> Any:
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    if text == "path.root":
        return str(TERRAFORM)
    if text == "path.module":
        return str(scope.module.path)
    if text == "count.index" and scope.count_index is not None:
        return scope.count_index
    if (match := _EACH.match(text)) and scope.each is not None:
        key, value = scope.each
        return key if match.group(1) == "key" else _path(value, match.group(2))
    if match := _REF.match(text):
        kind, name, accessors = match.groups()
        base = scope.variable(name) if kind == "var" else evaluate(scope.module.locals[name], scope.base())
        return _path(base, accessors)
    if (match := _MODULE_OUTPUT.match(text)) and match.group(1) in scope.module.calls:
        inner = child(scope.base(), match.group(1))
        output = inner.module.outputs.get(match.group(2))
        marker = (inner.module.path, match.group(2))
        if output is None or marker in _EVALUATING:
            return Unresolved(f"${{{text}}}")
        _EVALUATING.add(marker)
        try:
            return _path(evaluate(output["value"], inner), match.group(3))
        finally:
            _EVALUATING.discard(marker)
    if match := _CALL.match(text):
        argument = _expression(match.group(2), scope)
        if argument is None or isinstance(argument, Unresolved):
            return argument
        return _to_string(argument)
    if match := _FOR_FILTER.match(text):
        _, _, source, negate, attr = match.groups()
        items = _expression(source, scope)
        if not isinstance(items, dict):
            return Unresolved(f"${{{text}}}")
        if attr is None:
            return dict(items)
        return {
            key: value
            for key, value in items.items()
            if isinstance(value, dict) and bool(value.get(attr)) != bool(negate)
        }
    return Unresolved(f"${{{text}}}")


# -- resource instances -----------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    kind: str
    name: str
    key: Any
    body: dict[str, Any]
    scope: Scope

    def get(self, attribute: str) -> Any:
        """An attribute's value; nested blocks by path, e.g. `push_config.oidc_token.audience`."""
        value: Any = self.body
        for step in attribute.split("."):
            if isinstance(value, list):
                value = value[0] if value else None
            if not isinstance(value, dict):
                return None
            value = value.get(step)
        return evaluate(value, self.scope)

    def raw(self, attribute: str) -> Any:
        value: Any = self.body
        for step in attribute.split("."):
            if isinstance(value, list):
                value = value[0] if value else None
            if not isinstance(value, dict):
                return None
            value = value.get(step)
        return value


def instances(scope: Scope, kind: str) -> list[Instance]:
    """Every instance of resources of `kind` in this module, count and for_each expanded;
    a resource whose count or for_each is not known statically is one instance whose key
    is Unresolved."""
    found = []
    for name, body in scope.module.resources_of(kind).items():
        if "count" in body:
            keys: Any = evaluate(body["count"], scope)
            if isinstance(keys, int):
                found += [Instance(kind, name, i, body, scope.with_count(i)) for i in range(keys)]
                continue
        elif "for_each" in body:
            keys = evaluate(body["for_each"], scope)
            if isinstance(keys, list):
                keys = {item: item for item in keys}
            if isinstance(keys, dict):
                found += [
                    Instance(kind, name, key, body, scope.with_each(key, value))
                    for key, value in keys.items()
                ]
                continue
        else:
            found.append(Instance(kind, name, None, body, scope))
            continue
        found.append(Instance(kind, name, Unresolved(str(keys)), body, scope))
    return found


def everywhere(kind: str) -> list[Instance]:
    """Instances of `kind` in the root module and in every module it calls."""
    top = root()
    scopes = [top, *(child(top, name) for name in top.module.calls)]
    return [instance for scope in scopes for instance in instances(scope, kind)]
