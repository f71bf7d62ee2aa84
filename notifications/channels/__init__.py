"""Transports, one module per channel. Only `notifications.delivery` calls them.

Each raises `RetryableDeliveryError` (try again later) or `PermanentDeliveryError` (do not).
"""

from __future__ import annotations


class DeliveryError(Exception):
    def __init__(self, message: str, *, response_status: int | None = None) -> None:
        super().__init__(message)
        self.response_status = response_status


class RetryableDeliveryError(DeliveryError):
    pass


class PermanentDeliveryError(DeliveryError):
    pass


class SubscriptionGone(PermanentDeliveryError):
    """The push service says this subscription no longer exists (404/410)."""
