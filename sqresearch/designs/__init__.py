"""Study designs: each a small pipeline (load -> compute -> judge) and one study object."""

from __future__ import annotations

import importlib


def study_getattr(package: str, names: tuple[str, ...]):
    """A design package's module ``__getattr__``: its study object (statistics, plots) is
    imported when first asked for, so that ``sqr validate --quick`` (``load`` alone) imports no
    scipy, statsmodels or plotting."""

    def __getattr__(name: str):
        if name in names:
            return getattr(importlib.import_module(f"{package}.study"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
