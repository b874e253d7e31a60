"""The test MariaDB script never silently skips the Q2A import's tests in CI."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "mariadb-test-server"


def _start(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    empty = tmp_path / "emptybin"
    empty.mkdir(exist_ok=True)
    for tool in ("bash", "python3", "mktemp", "id"):
        found = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        if found:
            (empty / tool).symlink_to(found)
    env = {"PATH": str(empty), "QA_MARIADB_SBIN": str(tmp_path / "nowhere")}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        ["bash", str(SCRIPT), "start", str(tmp_path / "state")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_fails_in_ci_without_binaries(tmp_path: Path) -> None:
    result = _start(tmp_path, "true")
    assert result.returncode == 1
    assert "CI requires the MariaDB leg" in result.stderr


def test_skips_with_a_note_outside_ci(tmp_path: Path) -> None:
    result = _start(tmp_path, None)
    assert result.returncode == 3
    assert "skipped" in result.stderr
