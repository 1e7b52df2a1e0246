"""The vendor article's three examples (Node.js ``https``, axios, cURL), run as real programs
against a real server.

The files in ``article/`` are the article's code, changed only where a local server forces it:
the protocol (http; the Node example keeps its variable ``https`` and only requires ``'http'``,
and gains a ``port:`` in its config), the host (127.0.0.1), the port, and the project id, key and
campaign id, which are ``__PLACEHOLDERS__`` filled in here.  Everything else (the
``fio: "Іван Петренко"``, the number without ``+``, the ``console.log`` of the result) is the
article's text, so a customer who copies it gets what these tests see.  The customer is set up
and the row read back through the CLI, as a self-hoster would.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, child_env, rows_via_cli, run_cli

pytestmark = pytest.mark.e2e

ARTICLE = Path(__file__).resolve().parent / "article"


@dataclass(frozen=True)
class Customer:
    project_id: int
    key: str
    campaign_id: int


@pytest.fixture
def customer(database_url: str) -> Customer:
    """A project, a key and a campaign, made the way the docs tell a self-hoster to."""
    project = run_cli(database_url, "project", "create", "Article customer")
    key = run_cli(database_url, "key", "create", "--project", str(project["id"]))
    campaign = run_cli(
        database_url, "campaign", "create", "--project", str(project["id"]), "Leads from CRM"
    )
    return Customer(project["id"], key["key"], campaign["id"])


def filled_in(name: str, server: Server, customer: Customer, into: Path) -> Path:
    text = (ARTICLE / name).read_text(encoding="utf-8")
    values = {
        "__PORT__": str(server.port),
        "__PROJECT_ID__": str(customer.project_id),
        "__AUTH_KEY__": customer.key,
        "__CAMPAIGN_ID__": str(customer.campaign_id),
    }
    for placeholder, value in values.items():
        assert placeholder in text, f"{name} lost its {placeholder}"
        text = text.replace(placeholder, value)
    assert not re.search(r"__[A-Z_]+__", text)
    path = into / name
    path.write_text(text, encoding="utf-8")
    return path


def run_program(*command: str, **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=child_env(**env), check=False
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done


def assert_the_articles_row_is_stored(database_url: str, customer: Customer) -> None:
    rows = rows_via_cli(database_url, customer.campaign_id)
    assert [(r["fio"], r["phone_raw"], r["phone_e164"], r["source"]) for r in rows] == [
        ("Іван Петренко", "380930000000", "+380930000000", "api")
    ]
    assert rows[0]["project_id"] == customer.project_id


def test_the_articles_node_https_example_stores_its_row(
    server: Server, customer: Customer, node: str, database_url: str, tmp_path: Path
) -> None:
    script = filled_in("node_https.js", server, customer, tmp_path)
    done = run_program(node, str(script))
    assert json.loads(done.stdout) == {"result": True}
    assert done.stderr == ""
    assert_the_articles_row_is_stored(database_url, customer)


def test_the_articles_axios_example_stores_its_row(
    server: Server,
    customer: Customer,
    node: str,
    node_modules: Path,
    database_url: str,
    tmp_path: Path,
) -> None:
    script = filled_in("axios.js", server, customer, tmp_path)
    done = run_program(node, str(script), NODE_PATH=str(node_modules))
    # axios hands console.log the parsed JSON object, which Node prints in its own notation.
    assert done.stdout == "{ result: true }\n"
    assert done.stderr == ""
    assert_the_articles_row_is_stored(database_url, customer)


def test_the_articles_curl_example_stores_its_row(
    server: Server, customer: Customer, database_url: str, tmp_path: Path
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    script = filled_in("curl.sh", server, customer, tmp_path)
    done = run_program("bash", str(script))
    # curl prints the body as it came; its progress meter goes to stderr (not a terminal).
    assert json.loads(done.stdout) == {"result": True}
    assert_the_articles_row_is_stored(database_url, customer)
