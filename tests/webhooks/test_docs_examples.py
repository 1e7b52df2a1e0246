"""docs/webhooks.md's Node.js verification example verifies our deliveries (both signatures
of a rotation) and refuses another secret's: the docs' code is run, not just shown."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from powerdialer.webhooks import signing

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def test_the_node_example_verifies_a_delivery(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (the e2e examples need it too)")
    [example] = re.findall(r"```js\n(.*?)```", DOC.read_text(), re.S)
    script = tmp_path / "verify.mjs"
    script.write_text(
        example
        + "\nconst [secret, body, headers] = process.argv.slice(2);\n"
        + "console.log(JSON.stringify(verify(secret, body, JSON.parse(headers))));\n"
    )
    old, new = signing.new_secret(), signing.new_secret()
    body = '{"id":"evt_1","data":{"fio":"Іван Петренко"}}'
    headers = json.dumps(dict(signing.headers([new, old], "evt_1", dt.datetime.now(dt.UTC), body)))
    for secret in (old, new):
        done = subprocess.run(
            [node, str(script), secret, body, headers], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == json.loads(body)
    refused = subprocess.run(
        [node, str(script), signing.new_secret(), body, headers],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "bad signature" in refused.stderr
