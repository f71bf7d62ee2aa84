"""What must never reach a provider or our records: personal data and secrets.

Also the one rule about confidence: a language model may lower the confidence the
statistics give, never raise it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

EMAIL_PLACEHOLDER = "[email]"
PERSON_PLACEHOLDER = "[person]"
SECRET_PLACEHOLDER = "[redacted]"

# Deliberately broad: a false positive costs a word in a prompt, a miss leaks an address.
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Key shapes of the providers we call (OpenAI sk-..., Anthropic sk-ant-..., Google AIza...),
# in case an SDK error message echoes one.
_KEY_SHAPES = re.compile(r"\b(?:sk-[A-Za-z0-9_-]{8,}|AIza[0-9A-Za-z_-]{20,})")


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    # Longest first so "Jane Doe" is replaced whole before "Jane" alone.
    cleaned = sorted({name.strip() for name in names if len(name.strip()) >= 2}, key=len)[::-1]
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(name) for name in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Scrubber:
    """Removes e-mail addresses and the given people's names from text and JSON-like data.

    Pass every name the data may carry for the people involved: usernames, first, last and
    full names (`names_of_users` collects them from user objects).
    """

    names: tuple[str, ...] = ()
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", _name_pattern(self.names))

    def text(self, value: str) -> str:
        scrubbed = _EMAIL.sub(EMAIL_PLACEHOLDER, value)
        if self._pattern is not None:
            scrubbed = self._pattern.sub(PERSON_PLACEHOLDER, scrubbed)
        return scrubbed

    def data(self, value: Any) -> Any:
        """Scrub every string in nested dicts/lists/tuples, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.data(key): self.data(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        return value


def names_of_users(users: Iterable[Any]) -> tuple[str, ...]:
    """Every name a Django user may appear under in text: username, first, last, full name."""
    names: list[str] = []
    for user in users:
        for attribute in ("username", "first_name", "last_name"):
            names.append(str(getattr(user, attribute, "") or ""))
        get_full_name = getattr(user, "get_full_name", None)
        if callable(get_full_name):
            names.append(str(get_full_name()))
        email = str(getattr(user, "email", "") or "")
        names.append(email.partition("@")[0])
    return tuple(name for name in names if name)


def redact_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove the given secrets, and anything shaped like a provider key, from `text`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, SECRET_PLACEHOLDER)
    return _KEY_SHAPES.sub(SECRET_PLACEHOLDER, text)


def combine_confidence(statistical: float, llm: float | None) -> float:
    """The confidence to show: the model may lower the statistics' confidence, never raise it."""
    if not 0.0 <= statistical <= 1.0:
        raise ValueError(f"Statistical confidence must be within [0, 1], not {statistical}.")
    if llm is None:
        return statistical
    if not 0.0 <= llm <= 1.0:
        raise ValueError(f"LLM confidence must be within [0, 1], not {llm}.")
    return min(statistical, llm)
