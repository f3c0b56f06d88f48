"""A static reading of terraform/: each module parsed with python-hcl2, and a small
evaluator for the expressions that carry names (variables, locals, module inputs and
outputs, string templates, count and simple for_each, for expressions and a few
functions), so tests can compare the names terraform declares with the names the code
uses. Anything it cannot evaluate comes back as `Unresolved`, a string that still shows
the expression."""

from __future__ import annotations

import ast
import contextlib
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

_REF = re.compile(r"^(var|local)\.(\w+)((?:\.\w+|\[\"[^\"]*\"\]|\[[\w.]+\])*)$")
_MODULE_OUTPUT = re.compile(r"^module\.(\w+)\.(\w+)((?:\.\w+|\[\"[^\"]*\"\])*)$")
_EACH = re.compile(r"^each\.(key|value)((?:\.\w+)*)$")
_FOR_FILTER = re.compile(r"^\{for (\w+) , (\w+) in (.+?) : \1 => \2(?: if (!?)\2\.(\w+))?\}$")
_CALL = re.compile(r"^([a-z]\w*)\((.*)\)$", re.S)
_BOUND = re.compile(r"^([A-Za-z_]\w*)((?:\.\w+|\[\"[^\"]*\"\]|\[[\w.]+\])*)$")


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
    # Symbols a for expression binds (`entry_point` in `{for entry_point in ...}`).
    bindings: dict[str, Any] = field(default_factory=dict)

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

    def with_bindings(self, bindings: dict[str, Any]) -> Scope:
        bound = {**self.bindings, **bindings}
        return Scope(self.module, self.arguments, self.caller, self.count_index, self.each, bound)


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


def _path(value: Any, accessors: str, scope: Scope | None = None) -> Any:
    """Follow `.attr`, `["key"]` and, given a scope, `[expression]` (e.g. `[each.key]`)."""
    for match in re.finditer(r"\.(\w+)|\[\"([^\"]*)\"\]|\[([\w.]+)\]", accessors):
        key = match.group(1) or match.group(2)
        if match.group(3) is not None:
            key = _expression(match.group(3), scope) if scope is not None else None
            if not isinstance(key, str) or isinstance(key, Unresolved):
                return Unresolved(f"{value}{match.group(0)}")
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
        return key if match.group(1) == "key" else _path(value, match.group(2), scope)
    if match := _REF.match(text):
        kind, name, accessors = match.groups()
        base = scope.variable(name) if kind == "var" else evaluate(scope.module.locals[name], scope.base())
        return _path(base, accessors, scope)
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
    if (match := _BOUND.match(text)) and match.group(1) in scope.bindings:
        return _path(scope.bindings[match.group(1)], match.group(2), scope)
    if len(branches := _split(text, " ? ")) == 2 and len(outcomes := _split(branches[1], " : ")) == 2:
        condition = _expression(branches[0], scope)
        if not isinstance(condition, bool):
            return Unresolved(f"${{{text}}}")
        return _expression(outcomes[0] if condition else outcomes[1], scope)
    if text.startswith("!") and isinstance(negated := _expression(text[1:], scope), bool):
        return not negated
    if len(sides := _split(text, " != ")) == 2 or len(sides := _split(text, " == ")) == 2:
        return _compare(text, [_expression(side, scope) for side in sides], scope)
    if text.startswith('"') and _closing(text, 0) == len(text) - 1:
        return evaluate(text[1:-1], scope)
    if (match := _CALL.match(text)) and _closing(text, len(match.group(1))) == len(text) - 1:
        return _call(match.group(1), [_expression(a, scope) for a in _split(match.group(2), ",")], text)
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
    if text[:5] in ("{for ", "[for ") and _closing(text, 0) == len(text) - 1:
        return _for(text, scope)
    if text.startswith("{") and _closing(text, 0) == len(text) - 1:
        # An object literal inside an expression, which python-hcl2 writes as a Python dict.
        with contextlib.suppress(ValueError, SyntaxError):
            return evaluate(ast.literal_eval(text), scope)
    return Unresolved(f"${{{text}}}")


def _closing(text: str, start: int) -> int:
    """Index of the quote or bracket closing the one at `start`, skipping strings (with
    their ${...} interpolations) and nested brackets; -1 if it never closes."""
    brackets: list[str] = []
    in_string = text[start] == '"'
    interpolations: list[int] = []  # bracket depth at which each open ${ began
    i = start + 1
    if not in_string:
        brackets.append(text[start])
    while i < len(text):
        char = text[i]
        if in_string:
            if char == "\\":
                i += 2
                continue
            if text.startswith("${", i):
                interpolations.append(len(brackets))
                brackets.append("{")
                in_string = False
                i += 2
                continue
            if char == '"':
                if not brackets:
                    return i
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "([{":
            brackets.append(char)
        elif char in ")]}":
            if not brackets:
                return -1
            brackets.pop()
            if interpolations and len(brackets) == interpolations[-1]:
                interpolations.pop()
                in_string = True
            elif not brackets:
                return i
        i += 1
    return -1


def _split(text: str, separator: str) -> list[str]:
    """`text` split at each `separator` outside strings and brackets."""
    parts, start, i = [], 0, 0
    while i < len(text):
        if text[i] in '"([{':
            end = _closing(text, i)
            if end < 0:
                break
            i = end + 1
            continue
        if text.startswith(separator, i):
            parts.append(text[start:i].strip())
            start = i = i + len(separator)
            continue
        i += 1
    parts.append(text[start:].strip())
    return parts


def _compare(text: str, sides: list[Any], scope: Scope) -> Any:
    """`a != b` and `a == b`. A value only known after apply (an Unresolved string) is
    not null: what the evaluator cannot resolve here are names, ids and URLs."""
    equal = " == " in text and len(_split(text, " == ")) == 2
    left, right = sides
    if left is None or right is None:
        return (left is None and right is None) == equal
    if isinstance(left, Unresolved) or isinstance(right, Unresolved):
        return Unresolved(f"${{{text}}}")
    return (left == right) == equal


def _call(name: str, arguments: list[Any], text: str) -> Any:
    """The few functions that build names: tostring, keys, replace (plain), merge."""
    if name == "tostring" and len(arguments) == 1 and arguments[0] is None:
        return None
    if any(a is None or isinstance(a, Unresolved) for a in arguments):
        return Unresolved(f"${{{text}}}")
    if name == "tostring" and len(arguments) == 1:
        return _to_string(arguments[0])
    if name == "keys" and len(arguments) == 1 and isinstance(arguments[0], dict):
        return sorted(arguments[0])
    if name == "replace" and len(arguments) == 3 and not str(arguments[1]).startswith("/"):
        return str(arguments[0]).replace(str(arguments[1]), str(arguments[2]))
    if name == "merge" and all(isinstance(a, dict) for a in arguments):
        return {key: value for a in arguments for key, value in a.items()}
    return Unresolved(f"${{{text}}}")


def _for(text: str, scope: Scope) -> Any:
    """`{for k, v in SOURCE : KEY => VALUE if COND}` and `[for v in SOURCE : VALUE if COND]`."""
    unresolved = Unresolved(f"${{{text}}}")
    head, *rest = _split(text[5:-1], " : ")
    symbols, _, source = head.partition(" in ")
    names = [name.strip() for name in symbols.split(",")]
    body, *conditions = _split(" : ".join(rest), " if ")
    condition = " if ".join(conditions)
    items = _expression(source, scope)
    if isinstance(items, list):
        pairs = list(enumerate(items))
    elif isinstance(items, dict):
        pairs = list(items.items())
    else:
        return unresolved
    results: list[tuple[Any, Any]] = []
    for key, value in pairs:
        bound = {names[0]: value} if len(names) == 1 else {names[0]: key, names[1]: value}
        inner = scope.with_bindings(bound)
        if condition:
            keep = _expression(condition, inner)
            if not isinstance(keep, bool):
                return unresolved
            if not keep:
                continue
        if text[0] == "{":
            key_text, *values = _split(body, " => ")
            value_text = " => ".join(values)
            result_key = _expression(key_text, inner)
            if not isinstance(result_key, str) or isinstance(result_key, Unresolved):
                return unresolved
            results.append((result_key, _expression(value_text, inner)))
        else:
            results.append((None, _expression(body, inner)))
    if text[0] == "{":
        return dict(results)
    return [value for _, value in results]


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
