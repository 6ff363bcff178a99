"""Start-up work the command line skips: `inspect` while `dataclasses` is imported.

`dataclasses` imports `inspect` (with `ast`, `dis`, `tokenize` and `linecache`: ~5 ms of a cold
scan's ~60 ms start on a 2-core machine) for one use: `inspect.signature` makes the `__doc__` of
a dataclass that has no docstring. reviewq's dataclasses on the command line's paths have their
own (`tests/test_scan_lean.py` checks that a cold scan never loads `inspect`), so the import is
deferred: `dataclasses` is imported with a stand-in `inspect` that loads the real module on its
first attribute, and hands it on. Any later `import inspect` gets the real module.
"""

from __future__ import annotations

import sys


def import_dataclasses_without_inspect() -> None:
    """Import `dataclasses` with `inspect` loaded only when first used (see the module).

    Nothing is done when either module is loaded already (a test run, an embedding program):
    then there is nothing left to save."""
    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    stand_in = _InspectOnDemand("inspect")
    sys.modules["inspect"] = stand_in
    try:
        import dataclasses  # noqa: F401
    finally:
        if sys.modules.get("inspect") is stand_in:
            del sys.modules["inspect"]


class _InspectOnDemand(type(sys)):  # type: ignore[misc]  # the module type
    """`dataclasses`' `inspect` until first used: then the real module, also for `dataclasses`."""

    def __getattr__(self, name: str) -> object:
        import importlib

        if sys.modules.get("inspect") is self:
            del sys.modules["inspect"]
        real = importlib.import_module("inspect")
        dataclasses = sys.modules.get("dataclasses")
        if dataclasses is not None and getattr(dataclasses, "inspect", None) is self:
            dataclasses.inspect = real  # type: ignore[attr-defined]
        return getattr(real, name)
