"""platform slug -> connector class. No `if platform == ...` anywhere else."""

from __future__ import annotations

from collections.abc import Callable

from integrations.connector import AdsConnector

_CONNECTORS: dict[str, type[AdsConnector]] = {}


def register_connector(platform: str) -> Callable[[type[AdsConnector]], type[AdsConnector]]:
    def decorator(cls: type[AdsConnector]) -> type[AdsConnector]:
        if platform in _CONNECTORS:
            raise ValueError(f"A connector for {platform!r} is already registered.")
        cls.platform = platform
        _CONNECTORS[platform] = cls
        return cls

    return decorator


def get_connector_class(platform: str) -> type[AdsConnector]:
    try:
        return _CONNECTORS[platform]
    except KeyError:
        raise LookupError(
            f"No connector for {platform!r}; known: {', '.join(sorted(_CONNECTORS))}."
        ) from None


def registered_platforms() -> list[str]:
    return sorted(_CONNECTORS)
