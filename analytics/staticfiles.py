"""Serve plotly.js from the installed `plotly` package as the static file
`analytics/vendor/plotly.min.js`: the registry package is the source, nothing is copied
into the repository, and `collectstatic` picks it up like any other static file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_PATH = "analytics/vendor/plotly.min.js"


def plotly_bundle() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


class PlotlyFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(plotly_bundle().parent))

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:
        if path != PLOTLY_PATH:
            return [] if find_all else None
        found = str(plotly_bundle())
        return [found] if find_all else found

    def list(self, ignore_patterns: Any) -> Any:
        # (relative path inside storage, storage); the storage's prefix maps it to our URL.
        storage = FileSystemStorage(location=str(plotly_bundle().parent))
        storage.prefix = "analytics/vendor"  # type: ignore[attr-defined]
        yield "plotly.min.js", storage
