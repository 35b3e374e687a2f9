"""`langflow.*` and `lfx.*` modules inside the sandbox, all served by api.py.

The modules listed are the ones the corpus's custom code imports from (docs/custom-code.md);
importing a listed module gives api.py's names; importing any other `langflow`/`lfx` module is a
ModuleNotFoundError naming the first missing module (`langflow.base.vectorstores` for
`from langflow.base.vectorstores.model import ...`). Real `langflow`/`lfx` packages are never loaded.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types

from flowless_sandbox import api

_SERVED = (
    "", ".custom", ".custom.custom_component", ".custom.custom_component.component",
    ".custom.custom_component.custom_component", ".io", ".inputs", ".inputs.inputs", ".template",
    ".template.field", ".template.field.base", ".schema", ".schema.message", ".schema.data",
    ".schema.dataframe", ".schema.schema", ".schema.dotdict", ".field_typing", ".field_typing.range_spec",
    ".logging", ".logging.logger", ".log", ".log.logger", ".base", ".base.io", ".base.io.text", ".base.io.chat",
    ".base.constants", ".utils", ".utils.constants", ".utils.util", ".helpers", ".helpers.data", ".helpers.record",
)
MODULES = frozenset(f"{root}{suffix}" for root in ("langflow", "lfx") for suffix in _SERVED)




class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        root = fullname.split(".", 1)[0]
        if root not in {"langflow", "lfx"}:
            return None
        if fullname not in MODULES:
            raise ModuleNotFoundError(f"No module named '{fullname}' in Flowless's sandbox (it serves Langflow's custom, io, inputs, schema, field_typing and logging modules)", name=fullname)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        module = types.ModuleType(spec.name)
        module.__path__ = []  # a package, so submodules resolve through this finder
        for name in dir(api):
            if not name.startswith("__"):
                setattr(module, name, getattr(api, name))
        module.logger = api.logger
        return module

    def exec_module(self, module):  # type: ignore[no-untyped-def]
        return None


def install() -> None:
    for name in list(sys.modules):
        if name.split(".", 1)[0] in {"langflow", "lfx"}:
            del sys.modules[name]
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
