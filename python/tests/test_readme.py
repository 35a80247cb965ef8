"""README's Python example runs as printed, from the repository's root."""

import re
import subprocess
import sys

from conftest import ROOT


def test_readme_python_example_runs():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"<!-- python-run -->\n```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    code = blocks[0]
    assert len(code.strip().splitlines()) <= 5
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "True" in out.stdout and "Fisher scoring" in out.stdout, out.stdout
