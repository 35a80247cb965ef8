"""Shared fixtures: the repository's paths and the `fimkit` command the
package's outputs are compared with."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXTBOOK = ROOT / "tests" / "fixtures" / "textbook"
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def fimkit_bin() -> Path:
    """The command (FIMKIT_BIN, else built here with `cargo build`)."""
    given = os.environ.get("FIMKIT_BIN")
    if given:
        return Path(given)
    subprocess.run(
        ["cargo", "build", "--quiet", "--bin", "fimkit"], cwd=ROOT, check=True
    )
    return ROOT / "target" / "debug" / "fimkit"


def corpus() -> list[Path]:
    files = sorted(TEXTBOOK.glob("*.fim"))
    assert len(files) > 30, files
    return files
