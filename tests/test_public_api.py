"""The public API of ``scipix``: ``__all__`` is sorted, complete and importable."""

from __future__ import annotations

import importlib
import types

import pytest

import scipix

MODULES = [
    "scipix",
    "scipix.config",
    "scipix.config_loading",
    "scipix.errors",
    "scipix.io",
    "scipix.types",
    "scipix.engines",
    "scipix.engines.base",
    "scipix.engines.registry",
]


def isort_key(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: SCREAMING_CASE, then CamelCase, then the rest; each alphabetical."""
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _public_names(module: types.ModuleType) -> set[str]:
    """Names a module defines or re-exports on purpose (not submodules, not private)."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "TYPE_CHECKING"}
    }


def test_scipix_all_is_sorted() -> None:
    assert list(scipix.__all__) == sorted(scipix.__all__, key=isort_key)


def test_scipix_all_has_no_duplicates() -> None:
    assert len(set(scipix.__all__)) == len(scipix.__all__)


def test_scipix_all_is_complete() -> None:
    """Every public name in scipix/__init__ is in __all__ and every name in __all__ exists."""
    declared = set(scipix.__all__) - {"__version__"}
    assert _public_names(scipix) == declared
    for name in scipix.__all__:
        assert hasattr(scipix, name), name


def test_version() -> None:
    assert isinstance(scipix.__version__, str)
    assert scipix.__version__.count(".") >= 1


@pytest.mark.parametrize("name", MODULES)
def test_module_all_is_sorted_and_exists(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=isort_key), name
    for attr in exported:
        assert hasattr(module, attr), f"{name}.{attr}"
