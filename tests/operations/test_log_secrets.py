"""No secret reaches the logs: the integration and agent tests that handle tokens and keys
run again with every logger at DEBUG through the production JSON handler, and every
secret they handled is searched for in what was written (see log_scan_plugin.py).

The selection covers the OAuth code exchange and state check, token refresh (before a sync
and on a 401), platform errors and quota blocks from local servers speaking the platforms'
wire formats with real Authorization/developer-token headers, and LLM calls with API keys
through the OpenAI, Anthropic and Gemini SDKs against a local server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SELECTION = [
    "tests/integrations/test_oauth_flow.py",
    "tests/integrations/test_tokens_and_secrets.py",
    "tests/integrations/meta",
    "tests/integrations/google",
    "tests/integrations/tiktok",
    "tests/agents/test_provider_wire.py",
]


def test_integration_and_agent_code_paths_log_no_secret(tmp_path: Path) -> None:
    output, report_path = tmp_path / "log.jsonl", tmp_path / "report.json"
    env = {
        **os.environ,
        "LOG_SCAN_OUTPUT": str(output),
        "LOG_SCAN_REPORT": str(report_path),
        # The SDKs' own debug switches, so their request logging is on as well.
        "OPENAI_LOG": "debug",
        "ANTHROPIC_LOG": "debug",
    }
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        # The inner run makes its own test database: sharing this run's name would make it
        # drop the database the outer run is using.
        env["DATABASE_URL"] = os.environ["DATABASE_URL"].rstrip("/") + "_logscan"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.operations.log_scan_plugin",
            *SELECTION,
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())
    # The scan saw real material: secrets handled, DEBUG lines from the HTTP stacks and SDKs.
    assert report["secrets"] >= 10
    assert {"urllib3.connectionpool", "integrations.http"} <= set(report["loggers"])
    assert any(name.startswith(("openai", "anthropic", "httpx")) for name in report["loggers"])
    assert report["leaks"] == []
