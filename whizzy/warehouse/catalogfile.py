"""The parsed catalog, saved beside its manifest so a fresh process does not parse it again.

Parsing a manifest into a `Catalog` (reading 1.6 MB of JSON, then every measure expression
with sqlglot) takes 0.15–0.3 s, and every fresh process paid it on its first answer. The
saved file (``<manifest>.catalog``) starts with a key: a hash of the manifest's bytes, the
catalog code and the Python version. A reader whose key differs (another build, other code)
parses the manifest again and saves the new catalog, so a file from another build is never
used. The body is a pickle read by an unpickler that builds only catalog classes.

>>> catalog_path_for(Path("/x/warehouse.manifest.json"))
PosixPath('/x/warehouse.manifest.json.catalog')
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import pickle
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from whizzy.warehouse.files import replace_quietly

#: Bump when the saved form changes.
CATALOG_FORMAT = 1
_MAGIC = b"whizzy-catalog"
#: The code a saved catalog depends on.
_CODE = (Path(__file__), Path(__file__).with_name("catalog.py"))
#: The only globals a saved catalog may name: catalog classes and a path.
_ALLOWED = {("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "Path"),
            ("builtins", "frozenset"), ("builtins", "set")}


def catalog_path_for(manifest: Path) -> Path:
    """Where the parsed catalog of `manifest` is saved: beside it, ``<name>.catalog``."""
    return Path(manifest).with_name(Path(manifest).name + ".catalog")


def catalog_key(manifest_bytes: bytes) -> str:
    """The key a saved catalog must carry to be used for a manifest with these bytes.

    >>> catalog_key(b"{}") == catalog_key(b"{}") != catalog_key(b'{"nodes": {}}')
    True
    """
    digest = hashlib.sha256(b"%d " % CATALOG_FORMAT)
    digest.update(sys.version.encode())
    for code in _CODE:
        with contextlib.suppress(OSError):
            digest.update(code.read_bytes())
    digest.update(manifest_bytes)
    return digest.hexdigest()


class _CatalogUnpickler(pickle.Unpickler):
    """Builds catalog dataclasses, paths and builtin containers; refuses anything else."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "whizzy.warehouse.catalog" or (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a catalog")


def load_saved(path: Path, key: str, catalog_type: type) -> Any | None:
    """The catalog saved at `path` for `key`; None when absent, for another key or unreadable."""
    try:
        with open(path, "rb") as handle:
            if handle.readline() != b"%s %s\n" % (_MAGIC, key.encode()):
                return None
            catalog = _CatalogUnpickler(io.BytesIO(handle.read())).load()
    except (OSError, EOFError, ValueError, TypeError, AttributeError, ImportError,
            IndexError, pickle.UnpicklingError):
        return None
    return catalog if isinstance(catalog, catalog_type) else None


def save(path: Path, key: str, catalog: Any) -> None:
    """Write `catalog` for `key` to `path` (a new file swapped in; a failure only costs time)."""
    def fill(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            handle.write(b"%s %s\n" % (_MAGIC, key.encode()))
            pickle.dump(replace(catalog, path=None), handle, protocol=pickle.HIGHEST_PROTOCOL)

    replace_quietly(path, fill, "catalog")


def saved_or_parsed(manifest: Path, manifest_bytes: bytes, parse: Callable[[bytes], Any],
                    catalog_type: type) -> Any:
    """The catalog of `manifest`: the saved one when its key matches, else parsed and saved.

    Only a warehouse's own manifest (``<stem>.manifest.json``, written by a build) gets a
    saved catalog: any other manifest (dbt's ``target/``, a test fixture) is parsed.
    """
    if not Path(manifest).name.endswith(".manifest.json"):
        return parse(manifest_bytes)
    key = catalog_key(manifest_bytes)
    target = catalog_path_for(manifest)
    saved = load_saved(target, key, catalog_type)
    if saved is not None:
        return replace(saved, path=manifest)
    catalog = parse(manifest_bytes)
    save(target, key, catalog)
    return catalog
