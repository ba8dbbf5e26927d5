"""One module per Kafka API; importing this package registers every module in it.

A new API is a new module here that calls `@api(...)`: nothing else to edit.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
