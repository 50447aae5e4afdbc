"""Running one contender of a benchmark in a fresh process of its own (its threads and memory
cannot slow another's), and reading what it used."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path


def in_a_process(module, function, *args):
    """module.function(*args) run in a fresh Python process; its JSON-able result."""
    env = os.environ | {"PYTHONPATH": str(Path(__file__).parent)}
    call = f"{function}(*{args!r})"
    code = f"import json, {module} as m; print(json.dumps(m.{call}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"{module}.{call} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_mb():
    """The peak resident memory of this process so far (VmHWM), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024
