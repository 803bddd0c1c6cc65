"""Serves the front-end libraries installed by npm (package.json) as static files.

Only the files named in ``settings.NODE_MODULES_FILES`` are exposed, under the names given there,
so ``collectstatic`` copies a few hundred kilobytes rather than the whole ``node_modules`` folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage


class NodeModulesFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.root = Path(settings.NODE_MODULES_DIR)
        self.files: dict[str, str] = dict(settings.NODE_MODULES_FILES)

    def check(self, **kwargs: Any) -> list[Any]:
        missing = [name for name, source in self.files.items() if not (self.root / source).is_file()]
        if missing:
            return [
                Error(
                    f"Front-end files missing: {', '.join(missing)}",
                    hint="Run 'npm ci' (make run does it).",
                    id="crm.E001",
                )
            ]
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        source = self.files.get(path)
        if source is None or not (self.root / source).is_file():
            return [] if find_all else None
        found = str(self.root / source)
        return [found] if find_all else found

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, Any]]:
        for name, source in self.files.items():
            full = self.root / source
            if full.is_file():
                storage = _SingleFileStorage(location=str(full.parent), target=name, source_name=full.name)
                yield name, storage


class _SingleFileStorage(FileSystemStorage):
    """Presents one file of node_modules under its static name."""

    def __init__(self, *, location: str, target: str, source_name: str) -> None:
        super().__init__(location=location)
        self.target = target
        self.source_name = source_name

    def path(self, name: str) -> str:
        return super().path(self.source_name if name == self.target else name)

    def open(self, name: str, mode: str = "rb") -> Any:
        return super().open(self.source_name if name == self.target else name, mode)
