"""The README's examples run as they are printed there."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"
README = Path(__file__).parent.parent / "README.md"


@pytest.mark.parametrize("name", ["langgraph_example.py", "adk_example.py"])
def test_readme_prints_the_example(name: str) -> None:
    """The README shows each example file's code (after its docstring) as it
    is, so that what runs here is what the reader copies."""
    source = (EXAMPLES / name).read_text()
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    code = source.split(f'"""{docstring}"""', 1)[1].strip() if docstring else source.strip()
    blocks = [b.strip() for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)]
    assert code in blocks


@pytest.mark.parametrize("name", ["langgraph_example.py", "adk_example.py"])
def test_example_runs(name: str, dsn: str) -> None:
    for _ in range(2):  # a second run starts afresh too
        out = subprocess.run(
            [sys.executable, str(EXAMPLES / name)],
            env={**os.environ, "DATABASE_URL": dsn},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
    if name.startswith("langgraph"):
        assert "notes: ['draft written', 'review: approved']" in out.stdout
        assert "paused: approve the draft?" in out.stdout
    else:
        assert "state: {'items': ['book'], 'user:currency': 'EUR'}" in out.stdout
        assert "events: ['add a book']" in out.stdout
