"""The public surface of ripple.api, and the conventions every module of it keeps."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import ripple.api

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(ripple.api.__path__, prefix="ripple.api.")
)


def test_all_names_exist() -> None:
    assert ripple.api.__all__ == sorted(ripple.api.__all__)
    for name in ripple.api.__all__:
        assert hasattr(ripple.api, name), name


@pytest.mark.parametrize("name", [
    "Kind", "register", "lookup", "by_resource", "by_name", "kinds", "admit", "load_documents",
    "parse_duration", "ConditionSet", "key", "secret_value", "broker_lifecycle",
    "trigger_lifecycle", "duck", "meta", "conditions", "messaging", "flows",
])
def test_the_names_other_packages_use_are_public(name: str) -> None:
    assert name in ripple.api.__all__


@pytest.mark.parametrize("module", ["ripple.api", *MODULES])
def test_module_conventions(module: str) -> None:
    loaded = importlib.import_module(module)
    assert loaded.__doc__ and len(loaded.__doc__.strip()) > 40, "a docstring: role and callers"
    source = loaded.__spec__.loader.get_source(module)  # type: ignore[union-attr]
    assert "from __future__ import annotations" in source
    assert len(source.splitlines()) <= 300
