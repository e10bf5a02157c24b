"""What the package's extras promise: ``pip install './clients/python[langgraph]'``
installs langgraph-checkpoint, not LangGraph itself (the application's), so
agentstore.langgraph must import nothing of the ``langgraph`` distribution."""

import subprocess
import sys

BLOCK_LANGGRAPH = """
import importlib.metadata as md
import sys

blocked = set()
for f in md.files("langgraph"):
    if f.suffix == ".py" and f.parts[0] == "langgraph":
        parts = list(f.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        blocked.add(".".join(parts))
assert "langgraph.graph" in blocked and "langgraph.constants" in blocked


class Block:
    def find_spec(self, name, path=None, target=None):
        if name in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (langgraph is not installed)")


sys.meta_path.insert(0, Block())
import agentstore.langgraph  # noqa: E402,F401
"""


def test_langgraph_module_needs_only_langgraph_checkpoint() -> None:
    out = subprocess.run(
        [sys.executable, "-c", BLOCK_LANGGRAPH], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
