"""Extension points: the built-in families, tasks, trace styles, backends, rewards and augmentations, and
those other packages add through Python entry points, one group per kind (``reasonlab.families``, ...).

Each kind has one :class:`Registry`. Its owner (``reasonlab.puzzles.families`` for families, ...) names
the built-ins and the typed protocol every entry must satisfy; entry points of installed packages are
merged after the built-ins (a plugin cannot replace a built-in: the same name twice is an error). An
entry is imported and checked against its protocol once, on first use, and an entry that breaks it is
refused with a :class:`PluginError` naming the package it came from.

This module is a leaf: it imports nothing from reasonlab, so every layer can declare a registry.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
GROUP_PREFIX = "reasonlab."
BUILT_IN = "built-in"


class PluginError(TypeError):
    """An entry that cannot be registered: it breaks its kind's protocol, clashes with another, or fails
    to import. The message names the entry and the package that provides it."""


@dataclass(frozen=True)
class Registration:
    """One registered entry: where it comes from (``built-in`` or ``plugin DIST VERSION``) and what
    it points at (``module:attribute``, or a built-in task's file)."""

    kind: str
    name: str
    source: str
    target: str
    loader: Callable[[], Any]

    @property
    def label(self) -> str:
        return f"{self.kind} entry {self.name!r} from {self.source} ({self.target})"


def protocol_members(protocol: type) -> list[str]:
    """The attributes and methods a protocol class declares, its protocol bases' included."""
    members: dict[str, None] = {}
    for klass in reversed(protocol.__mro__):
        if klass in (object, Protocol, Generic):
            continue
        members.update(dict.fromkeys(klass.__dict__.get("__annotations__", {})))
        members.update(
            (name, None)
            for name, value in klass.__dict__.items()
            if not name.startswith("_") and inspect.isfunction(value)
        )
    return list(members)


def missing_members(value: Any, protocol: type) -> list[str]:
    return [member for member in protocol_members(protocol) if not hasattr(value, member)]


class Registry(Generic[T]):
    """The entries of one kind: built-ins first, in their order, then each installed plugin's."""

    def __init__(
        self,
        kind: str,
        protocol: type,
        builtins: Mapping[str, str | tuple[str, Callable[[], Any]]],
        *,
        check: Callable[[str, Any], str | None] | None = None,
    ):
        """``builtins``: name -> ``module:attribute``, or (what to show, loader) for entries that are not
        Python objects (task files). ``check(name, value)`` adds a kind's own rule (a message when broken)."""
        self.kind = kind
        self.group = GROUP_PREFIX + kind
        self.protocol = protocol
        self._builtins = dict(builtins)
        self._check = check
        self._loaded: dict[str, T] = {}

    @cached_property
    def _registrations(self) -> dict[str, Registration]:
        found: dict[str, Registration] = {}
        for name, target in self._builtins.items():
            shown, loader = target if isinstance(target, tuple) else (target, _importer(target))
            found[name] = Registration(self.kind, name, BUILT_IN, shown, loader)
        for entry in sorted(importlib.metadata.entry_points(group=self.group), key=lambda e: e.name):
            dist = entry.dist
            source = f"plugin {dist.name} {dist.version}" if dist is not None else "plugin (unknown package)"
            registration = Registration(self.kind, entry.name, source, entry.value, entry.load)
            if entry.name in found:
                raise PluginError(
                    f"{registration.label} clashes with the {self.kind} entry of the same name from "
                    f"{found[entry.name].source}; rename it in the plugin's entry points"
                )
            found[entry.name] = registration
        return found

    def registrations(self) -> list[Registration]:
        return list(self._registrations.values())

    def names(self) -> list[str]:
        return list(self._registrations)

    def builtin_names(self) -> list[str]:
        return list(self._builtins)

    def __contains__(self, name: str) -> bool:
        return name in self._registrations

    def registration(self, name: str) -> Registration:
        try:
            return self._registrations[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} entry {name!r}; known: {', '.join(self.names())}") from None

    def get(self, name: str) -> T:
        """The entry named ``name``, imported and checked against the protocol on first use."""
        if name not in self._loaded:
            self._loaded[name] = self._validated(self.registration(name))
        return self._loaded[name]

    def _validated(self, registration: Registration) -> T:
        try:
            value = registration.loader()
        except Exception as exc:  # noqa: BLE001 - any import failure is reported against the plugin
            raise PluginError(f"{registration.label} cannot be loaded: {type(exc).__name__}: {exc}") from exc
        missing = missing_members(value, self.protocol)
        if missing or not isinstance(value, self.protocol):
            raise PluginError(
                f"{registration.label} does not satisfy the {self.protocol.__name__} protocol: "
                f"missing {', '.join(missing) or 'a member'}"
            )
        problem = self._check(registration.name, value) if self._check else None
        if problem:
            raise PluginError(f"{registration.label}: {problem}")
        return value


def _importer(target: str) -> Callable[[], Any]:
    return importlib.metadata.EntryPoint(name=target, value=target, group="").load


# Where each kind's registry lives (imported only when every kind is listed, so this module stays a leaf).
REGISTRIES: dict[str, str] = {
    "families": "reasonlab.puzzles.families:FAMILIES",
    "tasks": "reasonlab.tracks:TASKS",
    "trace_styles": "reasonlab.puzzles.trace_style:TRACERS",
    "backends": "reasonlab.inference.factory:BACKENDS",
    "rewards": "reasonlab.training.rewards:REWARDS",
    "augmentations": "reasonlab.synth.augment:AUGMENTATIONS",
}


@dataclass(frozen=True)
class Checked:
    """A registration and what loading it against its protocol found (None: it is usable)."""

    registration: Registration
    problem: str | None


def check_all() -> list[Checked]:
    """Every registration of every kind, each loaded and checked against its protocol."""
    checked = []
    for kind, where in REGISTRIES.items():
        registry: Registry = _importer(where)()
        try:
            registrations = registry.registrations()
        except PluginError as exc:
            clash = Registration(kind, registry.group, "entry points", registry.group, lambda: None)
            checked.append(Checked(clash, str(exc)))
            continue
        for registration in registrations:
            try:
                registry.get(registration.name)
            except PluginError as exc:
                checked.append(Checked(registration, str(exc)))
            else:
                checked.append(Checked(registration, None))
    return checked
