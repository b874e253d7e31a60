"""Extract the JSON Schemas of the routes the fake serves from Discord's OpenAPI description.

Run offline against a checked-out copy of https://github.com/discord/discord-api-spec::

    git --git-dir=<mirror> show HEAD:specs/openapi.json > /tmp/openapi.json
    .venv/bin/python -m tests.fakediscord.schemas.extract /tmp/openapi.json --commit <sha>

It writes ``discord_v10.json`` beside this file: for every route of the fake's route table
(``tests/fakediscord/rest.py``) the request body schema, the query parameters as one object
schema, and the response schema per status, plus every component schema they reach (``$defs``,
with ``#/components/schemas/X`` rewritten to ``#/$defs/X``). Nothing else is changed: what the
project adds (strict request objects, discord.py's deviations) lives in ``validate.py``. Review
the diff before committing.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("discord_v10.json")
PARAM = re.compile(r"\{[^}]+\}")


def fake_routes() -> list[tuple[str, str]]:
    """``(method, template)`` of every route the fake answers (its route table, not a copy)."""
    from tests.fakediscord.server import FakeDiscord

    return FakeDiscord().rest.router.routes()


def shape(template: str) -> str:
    """A path with every parameter name erased: ``/channels/{}/messages/{}``."""
    return PARAM.sub("{}", template)


class Extractor:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.components = spec["components"]
        self.by_shape = {shape(path): path for path in spec["paths"]}
        self.defs: dict[str, Any] = {}

    def deref(self, node: Any) -> Any:
        """Follow a ``$ref`` to responses/parameters/headers (schemas stay references)."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref.startswith("#/components/schemas/"):
                return node
            section, name = ref.removeprefix("#/components/").split("/")
            node = self.components[section][name]
        return node

    def schema(self, node: Any) -> Any:
        """A copy of a schema with component references rewritten and their targets kept."""
        if isinstance(node, list):
            return [self.schema(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and value.startswith("#/components/schemas/"):
                name = value.removeprefix("#/components/schemas/")
                out[key] = f"#/$defs/{name}"
                if name not in self.defs:
                    self.defs[name] = {}  # placeholder: breaks cycles
                    self.defs[name] = self.schema(self.components["schemas"][name])
            elif key == "properties":  # names, not keywords: keep every one
                out[key] = {name: self.schema(sub) for name, sub in value.items()}
            elif key in ("description", "title", "x-discord-union"):
                continue  # prose and generator hints: not part of validation
            else:
                out[key] = self.schema(value)
        return out

    def operation(self, method: str, template: str) -> dict[str, Any]:
        path = self.by_shape.get(shape(template))
        if path is None:
            raise SystemExit(f"{method} {template}: no such path in the spec")
        item = self.spec["paths"][path]
        op = item.get(method.lower())
        if op is None:
            raise SystemExit(f"{method} {template}: the spec has no {method} on {path}")
        entry: dict[str, Any] = {"spec_path": path, "operation": op["operationId"]}
        query = [self.deref(p) for p in op.get("parameters", [])]
        query = [p for p in query if p["in"] == "query"]
        entry["query"] = {
            "type": "object",
            "properties": {p["name"]: self.schema(p["schema"]) for p in query},
            "required": sorted(p["name"] for p in query if p.get("required")),
        }
        body = op.get("requestBody")
        if body is not None:
            content = self.deref(body)["content"]
            entry["request"] = self.schema(content["application/json"]["schema"])
            entry["request_required"] = bool(body.get("required"))
        responses: dict[str, Any] = {}
        for status, response in op["responses"].items():
            content = self.deref(response).get("content")
            json_body = (content or {}).get("application/json")
            responses[status] = None if json_body is None else self.schema(json_body["schema"])
        entry["responses"] = responses
        return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("openapi", type=Path, help="specs/openapi.json of discord-api-spec")
    parser.add_argument("--commit", required=True, help="the discord-api-spec commit read")
    args = parser.parse_args()
    spec = json.loads(args.openapi.read_text())
    extractor = Extractor(spec)
    routes = {
        f"{method} {template}": extractor.operation(method, template)
        for method, template in fake_routes()
    }
    document = {
        "source": {
            "repository": "https://github.com/discord/discord-api-spec",
            "commit": args.commit,
            "file": "specs/openapi.json",
            "api_version": spec["info"]["version"],
        },
        "routes": routes,
        "$defs": dict(sorted(extractor.defs.items())),
    }
    OUT.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(routes)} routes, {len(extractor.defs)} component schemas -> {OUT}")


if __name__ == "__main__":
    main()
