"""What terraform creates before what, read without terraform: the dependency graph its
references and `depends_on` lists make (a resource waits for everything it refers to,
through variables, locals, module inputs and outputs; a module call's `depends_on` holds
back every resource in the module; an output's `depends_on` holds back whoever reads it).

Nodes are addresses as terraform prints them, e.g.
`module.pubsub.google_pubsub_subscription.on_command`, plus `var.`, `local.` and `output.`
nodes inside each module; a resource with count or for_each is one node."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from tests.infra import tfmodel
from tests.infra.tfmodel import TERRAFORM

_MODULE_OUTPUT = re.compile(r"(?<![\w.])module\.(\w+)\.(\w+)")
_MODULE = re.compile(r"(?<![\w.])module\.(\w+)(?![\w.])")
_VAR_OR_LOCAL = re.compile(r"(?<![\w.])(var|local)\.(\w+)")
_DATA = re.compile(r"(?<![\w.])data\.(\w+)\.(\w+)")
_RESOURCE = re.compile(r"(?<![\w.])([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z_][\w-]*)")


@dataclass(frozen=True)
class _Module:
    prefix: str  # "" for the root, "module.<call>." for a child
    module: tfmodel.Module
    call: dict[str, Any] | None  # the root's module block that instantiates it


@cache
def _modules() -> dict[str, _Module]:
    root = tfmodel.load(TERRAFORM)
    found = {"": _Module("", root, None)}
    for name, call in root.calls.items():
        child = tfmodel.load((TERRAFORM / call["source"]).resolve())
        found[f"module.{name}."] = _Module(f"module.{name}.", child, call)
    return found


def _resources(at: _Module) -> list[str]:
    return [f"{at.prefix}{kind}.{name}" for kind, name in at.module.resources] + [
        f"{at.prefix}data.{kind}.{name}" for kind, name in at.module.data
    ]


def _references(value: Any, at: _Module) -> set[str]:
    """The nodes an expression (any parsed value) in module `at` refers to."""
    text = json.dumps(value)
    found: set[str] = set()
    for call, output in _MODULE_OUTPUT.findall(text):
        child = _modules().get(f"module.{call}.")
        if child is not None and output in child.module.outputs:
            found.add(f"module.{call}.output.{output}")
    for call in _MODULE.findall(text):
        if f"module.{call}." in _modules():
            found.update(_resources(_modules()[f"module.{call}."]))
    for kind, name in _VAR_OR_LOCAL.findall(text):
        found.add(f"{at.prefix}{kind}.{name}")
    for kind, name in _DATA.findall(text):
        if (kind, name) in at.module.data:
            found.add(f"{at.prefix}data.{kind}.{name}")
    for kind, name in _RESOURCE.findall(text):
        if (kind, name) in at.module.resources:
            found.add(f"{at.prefix}{kind}.{name}")
    return found


def _module_of(address: str) -> tuple[_Module, str]:
    match = re.match(r"^(module\.\w+\.)?(.+)$", address)
    assert match
    return _modules()[match.group(1) or ""], match.group(2)


@cache
def _edges(address: str) -> frozenset[str]:
    at, local = _module_of(address)
    kind, _, name = local.partition(".")
    found: set[str] = set()
    if kind == "var":
        if at.call is not None and name in at.call:
            found |= _references(at.call[name], _modules()[""])
    elif kind == "local":
        found |= _references(at.module.locals[name], at)
    elif kind == "output":
        found |= _references(at.module.outputs[name], at)
    else:
        if kind == "data":
            data_kind, _, data_name = name.partition(".")
            body = at.module.data[(data_kind, data_name)]
        else:
            body = at.module.resources[(kind, name)]
        found |= _references(body, at)
        if at.call is not None:
            found |= _references(at.call.get("depends_on", []), _modules()[""])
    found.discard(address)
    return frozenset(found)


def nodes() -> list[str]:
    """Every resource, data source, variable, local and output in the configuration."""
    found = []
    for at in _modules().values():
        found += _resources(at)
        found += [f"{at.prefix}var.{name}" for name in at.module.variables]
        found += [f"{at.prefix}local.{name}" for name in at.module.locals]
        found += [f"{at.prefix}output.{name}" for name in at.module.outputs]
    return found


def waits_for(address: str) -> set[str]:
    """Every resource and data source terraform completes before creating `address`."""
    seen: set[str] = set()
    pending = list(_edges(address))
    while pending:
        node = pending.pop()
        if node not in seen:
            seen.add(node)
            pending += _edges(node)
    return {node for node in seen if not re.search(r"(^|\.)(var|local|output)\.\w+$", node)}


def cycle() -> list[str] | None:
    """A dependency cycle (terraform refuses to plan one), or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for successor in sorted(_edges(node)):
            if state.get(successor) == 1:
                return [*path[path.index(successor) :], successor]
            if successor not in state and (found := visit(successor)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in nodes():
        if node not in state and (found := visit(node)):
            return found
    return None
