"""The API page's ready-to-copy examples: the article's three (Node.js ``https``, axios,
cURL) and Python, filled in with this server's URL, the project's id, a campaign's id and,
right after it was created, the new key (else the article's placeholder)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from powerdialer.web.compat import PATH

KEY_PLACEHOLDER = "your_unique_auth_key"
EXAMPLE_FIO = "Іван Петренко"
EXAMPLE_PHONE = "380930000000"


@dataclass(frozen=True)
class Snippet:
    id: str
    title: str
    language: str
    code: str


def _js(value: str) -> str:
    """A JavaScript single-quoted string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def curl(url: str, project_id: int, campaign_id: int, key: str) -> str:
    return (
        f'curl -X POST "{url}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f'  -H "x-project-id: {project_id}" \\\n'
        f'  -H "Auth-key: {key}" \\\n'
        "  -d '{\n"
        f'  "campaignId": {campaign_id},\n'
        f'  "fio": "{EXAMPLE_FIO}",\n'
        f'  "phone_number": "{EXAMPLE_PHONE}"\n'
        "}'"
    )


def node_https(url: str, project_id: int, campaign_id: int, key: str) -> str:
    parts = urlsplit(url)
    module = "https" if parts.scheme == "https" else "http"
    port = f"  port: {parts.port},\n" if parts.port else ""
    return (
        f"const {module} = require({_js(module)});\n"
        "\n"
        "const data = JSON.stringify({\n"
        f"  campaignId: {campaign_id},\n"
        f'  fio: "{EXAMPLE_FIO}",\n'
        f'  phone_number: "{EXAMPLE_PHONE}"\n'
        "});\n"
        "\n"
        "const config = {\n"
        f"  host: {_js(parts.hostname or 'localhost')},\n"
        f"{port}"
        f"  path: {_js(parts.path)},\n"
        "  method: 'POST',\n"
        "  headers: {\n"
        "    'Content-Type': 'application/json',\n"
        "    'Content-Length': Buffer.byteLength(data),\n"
        f"    'x-project-id': '{project_id}',\n"
        f"    'Auth-key': {_js(key)}\n"
        "  }\n"
        "};\n"
        "\n"
        "const callback = (response) => {\n"
        "  let result = Buffer.alloc(0);\n"
        "  response.on('data', chunk => {\n"
        "    result = Buffer.concat([result, chunk]);\n"
        "  });\n"
        "  response.on('end', () => {\n"
        "    console.log(result.toString());\n"
        "  });\n"
        "};\n"
        "\n"
        f"const request = {module}.request(config, callback);\n"
        "request.write(data);\n"
        "request.end();"
    )


def axios(url: str, project_id: int, campaign_id: int, key: str) -> str:
    return (
        "const axios = require('axios');\n"
        "\n"
        "axios({\n"
        f"  url: {_js(url)},\n"
        "  method: 'POST',\n"
        "  headers: {\n"
        "    'Content-Type': 'application/json',\n"
        f"    'x-project-id': '{project_id}',\n"
        f"    'Auth-key': {_js(key)}\n"
        "  },\n"
        "  data: {\n"
        f"    campaignId: {campaign_id},\n"
        f'    fio: "{EXAMPLE_FIO}",\n'
        f'    phone_number: "{EXAMPLE_PHONE}"\n'
        "  }\n"
        "})\n"
        "  .then(response => {\n"
        "    console.log(response.data);\n"
        "  })\n"
        "  .catch(error => {\n"
        "    console.error(error.response?.data || error.message);\n"
        "  });"
    )


def python(url: str, project_id: int, campaign_id: int, key: str) -> str:
    body = {"campaignId": campaign_id, "fio": EXAMPLE_FIO, "phone_number": EXAMPLE_PHONE}
    return (
        "# Python 3, standard library only\n"
        "import json\n"
        "import urllib.request\n"
        "\n"
        "request = urllib.request.Request(\n"
        f"    {json.dumps(url)},\n"
        f"    data=json.dumps({json.dumps(body, ensure_ascii=False)}).encode(),\n"
        "    headers={\n"
        '        "Content-Type": "application/json",\n'
        f'        "x-project-id": "{project_id}",\n'
        f'        "Auth-key": {json.dumps(key)},\n'
        "    },\n"
        '    method="POST",\n'
        ")\n"
        "with urllib.request.urlopen(request, timeout=10) as response:\n"
        "    print(response.read().decode())"
    )


def snippets(base_url: str, project_id: int, campaign_id: int, key: str | None) -> list[Snippet]:
    url = base_url.rstrip("/") + PATH
    chosen = key or KEY_PLACEHOLDER
    parts = urlsplit(url)
    node_title = "Node.js (https)" if parts.scheme == "https" else "Node.js (http)"
    return [
        Snippet("curl", "cURL", "bash", curl(url, project_id, campaign_id, chosen)),
        Snippet("node", node_title, "javascript", node_https(url, project_id, campaign_id, chosen)),
        Snippet("axios", "axios", "javascript", axios(url, project_id, campaign_id, chosen)),
        Snippet("python", "Python", "python", python(url, project_id, campaign_id, chosen)),
    ]
