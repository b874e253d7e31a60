"""The scripts that start the test databases never silently skip their tests in CI:
PostgreSQL (every backend-parametrized test) and MariaDB (the Q2A import's source)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Service:
    script: str
    name: str
    tools: tuple[str, ...]
    #: The variable pointing the script at its binaries, and where it points here (nowhere).
    binaries: tuple[str, str]


SERVICES = [
    Service(
        "pg-test-cluster",
        "PostgreSQL",
        ("bash", "python3", "dirname", "readlink", "ls", "sort", "mktemp", "id"),
        ("QA_PG_BIN_GLOB", "nowhere/*/bin"),
    ),
    Service(
        "mariadb-test-server",
        "MariaDB",
        ("bash", "python3", "mktemp", "id"),
        ("QA_MARIADB_SBIN", "nowhere"),
    ),
]


def _start(service: Service, tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    empty = tmp_path / "emptybin"
    empty.mkdir(exist_ok=True)
    for tool in service.tools:
        found = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        if found:
            (empty / tool).symlink_to(found)
    variable, missing = service.binaries
    env = {"PATH": str(empty), variable: str(tmp_path / missing)}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / service.script), "start", str(tmp_path / "state")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_fails_in_ci_without_binaries(service: Service, tmp_path: Path) -> None:
    result = _start(service, tmp_path, "true")
    assert result.returncode == 1
    assert f"CI requires the {service.name} leg" in result.stderr


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_skips_with_a_note_outside_ci(service: Service, tmp_path: Path) -> None:
    result = _start(service, tmp_path, None)
    assert result.returncode == 3
    assert "skipped" in result.stderr
