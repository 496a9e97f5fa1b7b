"""The README's walkthrough, pasted as a person would: its marked shell blocks run top to bottom
with bash against `hotline up` (simulator included) on free ports, and any refused call fails."""

import os
import re
import shlex
import subprocess
from pathlib import Path

from tests.stack import BIN, FAST_SIMULATOR, running_stack

ROOT = Path(__file__).parents[1]
MARK = "<!-- walkthrough -->"


def walkthrough() -> list[str]:
    """The ```sh blocks right after a walkthrough mark, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(re.escape(MARK) + r"\s*```sh\n(.*?)```", text, flags=re.DOTALL)


def test_the_readme_marks_its_walkthrough():
    blocks = walkthrough()
    assert len(blocks) == (ROOT / "README.md").read_text(encoding="utf-8").count(MARK) >= 7
    script = "\n".join(blocks)
    # Nothing a person would have to edit before pasting: no fixed ticket number, Chinese encoded.
    assert not re.search(r"\b20\d{12}\b", script.replace("# ", "#")), "a hard-coded ticket number"
    assert "--data-urlencode" in script and not re.search(r"\?[^\"' ]*[\u4e00-\u9fff]", script)


def test_the_readme_walkthrough_runs_as_pasted(tmp_path):
    script = "set -euo pipefail\n" + "\n".join(walkthrough()).replace(".venv/bin/", f"{BIN}/")
    with running_stack(tmp_path, FAST_SIMULATOR) as stack:
        env = stack.env | {
            "HOTLINE_URL": stack.url,
            "SIMULATOR_URL": stack.simulator_url,
            "TEMPORAL_ADDRESS": stack.temporal_address,  # the temporal CLI's own variable
        }
        run = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
                             check=False)  # fmt: skip
        # The banner's token command runs as printed, from where `hotline up` was started.
        printed = re.search(r"Tokens +(\S+ token --role intake)", stack.log.read_text()).group(1)
        minted = subprocess.run(shlex.split(printed), cwd=os.getcwd(), env=env, capture_output=True, text=True,
                                check=False)  # fmt: skip
        assert minted.returncode == 0 and minted.stdout.count(".") == 2, (printed, minted.stderr)
    assert run.returncode == 0, f"stdout:\n{run.stdout[-4000:]}\nstderr:\n{run.stderr[-4000:]}"
    assert '"merged":true' in run.stdout and '"outcome":"confirmed"' in run.stdout
    assert "ticket 20" in run.stdout
