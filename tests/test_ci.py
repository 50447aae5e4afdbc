""".ci/run, run on a copy with stand-in interpreters: each lane's lines come as they are printed,
prefixed with their Python, so a fast failure is on screen while the other lane still runs."""

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

CI_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"

# A stand-in for python3.X: says its version; `-m venv` fails at once on 3.11 (CI's main Python,
# the first lane), and on 3.10 (the second lane's first) only when the test creates `release`, or
# after 20 s, saying which.
FAKE_PYTHON = """#!/bin/bash
case "$1" in
  -c) echo {version} ;;
  --version) echo "Python {version}.0" ;;
  -m)
    if [[ {version} == 3.11 ]]; then echo "lint: E999 a quick failure"; exit 1; fi
    for _ in $(seq 200); do
      if [[ -e {release} ]]; then echo "tests: a slow failure"; exit 1; fi
      sleep 0.1
    done
    echo "tests: the test never released this lane"; exit 1 ;;
esac
"""


def fake_bin(folder, release):
    folder.mkdir()
    scripts = {"dot": "#!/bin/bash\n"}
    for version in ("3.10", "3.11", "3.12", "3.13"):
        scripts[f"python{version}"] = FAKE_PYTHON.format(version=version, release=release)
    scripts["python3"] = scripts["python3.11"]
    for name, text in scripts.items():
        path = folder / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(shutil.which("bash") is None, reason="CI's script is a bash script")
def test_a_fast_failure_is_printed_while_the_other_lane_still_runs(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(CI_RUN, repo / ".ci" / "run")
    release = tmp_path / "release"
    fake_bin(tmp_path / "bin", release)
    env = {
        "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin",
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
        "HOME": str(tmp_path),
    }
    ci = subprocess.Popen(
        ["bash", str(repo / ".ci" / "run")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        early = []
        for line in ci.stdout:
            early.append(line.rstrip("\n"))
            if "CI: FAILED on Python 3.11" in line:
                break
        release.touch()  # only now may the second lane end
        rest = [line.rstrip("\n") for line in ci.stdout]
        assert ci.wait(timeout=60) == 1
    finally:
        if ci.poll() is None:
            os.killpg(ci.pid, 9)
            time.sleep(0.1)

    assert "[py3.11] lint: E999 a quick failure" in early
    assert "[py3.11] CI: FAILED on Python 3.11 (its lines above say where)" in early
    assert not any("3.12" in line or "3.10" in line for line in early), early
    assert "[py3.10] tests: a slow failure" in rest
    assert "[py3.10] CI: FAILED on Python 3.10 (its lines above say where)" in rest
    assert rest[-1] == "CI: FAILED"
