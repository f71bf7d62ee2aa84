"""Settings come from the environment; production refuses unsafe configurations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY", "DEBUG"))
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 64 + "production-secret-key-with-enough-entropy-1234567890",
    "ALLOWED_HOSTS": "ads.example.com",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
}


def test_production_check_deploy_reports_nothing() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEY"])
def test_production_refuses_to_start_without_required_settings(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}

    result = _manage("check", **env)

    assert result.returncode != 0
    assert f"{missing} is required" in result.stderr


def test_production_refuses_debug() -> None:
    result = _manage("check", DEBUG="1", **PRODUCTION)

    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr
