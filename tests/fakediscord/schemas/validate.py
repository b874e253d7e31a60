"""Every REST request the bot makes and every answer the fake gives, checked against Discord's
own OpenAPI description (``discord_v10.json``, extracted by ``extract.py``).

Two things are the project's, both here and nowhere else:

* **Strict request objects.** Every object schema a request body reaches refuses properties it
  does not name, so a misspelled field the bot sends, which
  Discord would silently ignore, fails the test. Answers stay open (Discord adds fields).
* **Deviations** (``DEVIATIONS``): what discord.py sends or expects differently from the spec
  and Discord accepts; each widens the schema in one named place with its reason.

Validators are compiled once per route, direction and status, on first use, from a copy of the
document rewritten for speed without changing any verdict: the spec's enums (``oneOf`` of
``const``) become ``enum``, and unions told apart by ``type`` are checked only against the
member the payload names.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance

SCHEMA_FILE = Path(__file__).with_name("discord_v10.json")
Defs = dict[str, Any]


@dataclass(frozen=True)
class Deviation:
    """A named difference between the spec and what Discord (and discord.py) really do."""

    name: str
    reason: str
    direction: str  # "request", "response" or "both"
    patch: Callable[[dict[str, Any]], None]  # changes the document (routes, $defs) in place


def _or_integer_snowflake(doc: dict[str, Any]) -> None:
    defs = doc["$defs"]
    defs["SnowflakeType"] = {"anyOf": [defs["SnowflakeType"], {"type": "integer", "minimum": 0}]}


def _add_property(names: tuple[str, ...], prop: str, schema: dict[str, Any]) -> Callable[..., None]:
    def patch(doc: dict[str, Any]) -> None:
        for name in names:
            doc["$defs"][name]["properties"][prop] = schema

    return patch


def _add_query(route: str, name: str, schema: dict[str, Any]) -> Callable[..., None]:
    def patch(doc: dict[str, Any]) -> None:
        doc["routes"][route]["query"]["properties"][name] = schema

    return patch


def _media_channel_type(doc: dict[str, Any]) -> None:
    doc["$defs"]["ChannelTypes"]["oneOf"].append({"const": 16})


def _string_field_error_codes(doc: dict[str, Any]) -> None:
    field_error = {
        "type": "object",
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        "required": ["code", "message"],
    }
    doc["$defs"]["InnerErrors"]["properties"]["_errors"]["items"] = field_error


#: What discord.py does differently from the spec and Discord accepts, and where the spec
#: describes Discord's answers otherwise than Discord (and its own API reference) gives them.
#: Each widens the schema in one place; keep the reason beside it.
DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "snowflakes as JSON integers",
        "discord.py sends some ids it holds as ints (allowed_mentions users and roles, a "
        "permission overwrite's id); Discord reads a snowflake from an integer or a string, "
        "while the spec writes every snowflake as a string",
        "request",
        _or_integer_snowflake,
    ),
    Deviation(
        "tts on every message body",
        "discord.py's handle_message_parameters writes `tts` into every message payload, "
        "edits and a forum post's starter message included; Discord ignores it there",
        "request",
        _add_property(
            (
                "MessageEditRequestPartial",
                "IncomingWebhookUpdateRequestPartial",
                "IncomingWebhookUpdateForInteractionCallbackRequestPartial",
                "BaseCreateMessageCreateRequest",
            ),
            "tts",
            {"type": "boolean"},
        ),
    ),
    Deviation(
        "use_nested_fields when creating a forum post",
        "discord.py's start_thread on a forum adds ?use_nested_fields=true (the API's old "
        "switch for the nested `message`); Discord ignores it",
        "request",
        _add_query("POST /channels/{channel_id}/threads", "use_nested_fields", {"type": "boolean"}),
    ),
    Deviation(
        "nsfw on application commands",
        "discord.py sends every command's `nsfw` flag; Discord's API reference documents it "
        "for creating commands, the spec's request schemas leave it out",
        "request",
        _add_property(
            (
                "ApplicationCommandCreateRequest",
                "ApplicationCommandUpdateRequest",
                "ApplicationCommandPatchRequestPartial",
            ),
            "nsfw",
            {"type": ["boolean", "null"]},
        ),
    ),
    Deviation(
        "channel type 16 (GUILD_MEDIA)",
        "Discord's API reference lists the media channel (16) and discord.py offers it in a "
        "command's channel_types for a forum-like option; the spec's ChannelTypes stops at 15",
        "both",
        _media_channel_type,
    ),
    Deviation(
        "flags on an embed",
        "discord.py's Embed.to_dict writes the embed's `flags` (0 for a new embed); Discord "
        "ignores them on send",
        "request",
        _add_property(("RichEmbed",), "flags", {"type": ["integer", "null"]}),
    ),
    Deviation(
        "type on a forum post",
        "discord.py's create_forum_thread sends `type: 11` (a public thread) beside the "
        "starter message; Discord ignores it, the spec's CreateForumThreadRequest has no type",
        "request",
        _add_property(("CreateForumThreadRequest",), "type", {"type": ["integer", "null"]}),
    ),
    Deviation(
        "field error codes are strings",
        "in a 400 50035 answer Discord gives each field's error a string code "
        "(`BASE_TYPE_MAX_LENGTH`, as its API reference shows); the spec types them as the "
        "top-level integer code",
        "response",
        _string_field_error_codes,
    ),
)


_APPLICATORS = ("allOf", "anyOf", "oneOf", "$ref", "if", "dependentSchemas")


def _strict(node: Any) -> None:
    """Every object schema that names its properties refuses others: ``additionalProperties:
    false`` (fast) where no applicator beside it may name more, else ``unevaluatedProperties``."""
    if isinstance(node, list):
        for item in node:
            _strict(item)
    elif isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            composed = any(key in node for key in _APPLICATORS)
            node["unevaluatedProperties" if composed else "additionalProperties"] = False
        for value in node.values():
            _strict(value)


@cache
def _document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return doc


def _const_unions_as_enums(node: Any) -> None:
    """``oneOf: [{const: 1}, {const: 3}]`` (how the spec writes every enum) as ``enum: [1, 3]``:
    the same values, checked in one step instead of one subschema per value."""
    if isinstance(node, list):
        for item in node:
            _const_unions_as_enums(item)
    elif isinstance(node, dict):
        for key in ("oneOf", "anyOf"):
            branches = node.get(key)
            consts = isinstance(branches, list) and branches
            if consts and "enum" not in node and all(set(b) == {"const"} for b in branches):
                node["enum"] = [b["const"] for b in node.pop(key)]
        for value in node.values():
            _const_unions_as_enums(value)


def _kinds(defs: Defs, branch: dict[str, Any]) -> list[Any] | None:
    """The ``type`` values a union member accepts, when it is an object that requires one."""
    target = _resolve(branch, defs)
    kind = target.get("properties", {}).get("type", {})
    if "type" not in target.get("required", []):
        return None
    values = kind.get("enum", [kind["const"]] if "const" in kind else None)
    return list(values) if values else None


def _dispatch_on_kind(node: Any, defs: Defs) -> None:
    """A union of objects told apart by their ``type`` (components, callbacks, options) checked
    only against the member the payload's ``type`` names (``if``/``then``), not all of them: the
    same verdict when the members' values are disjoint, much faster, and a precise error."""
    if isinstance(node, list):
        for item in node:
            _dispatch_on_kind(item, defs)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():
        _dispatch_on_kind(value, defs)
    for key in ("oneOf", "anyOf"):
        branches = node.get(key)
        if not isinstance(branches, list) or len(branches) < 2:
            continue
        kinds = [_kinds(defs, b) for b in branches]
        flat = [v for values in kinds for v in values or []]
        if not all(kinds) or len(flat) != len(set(flat)):
            continue
        node.pop(key)
        node.setdefault("allOf", []).append(
            {"type": "object", "required": ["type"], "properties": {"type": {"enum": flat}}}
        )
        for branch, values in zip(branches, kinds, strict=True):
            guard = {"required": ["type"], "properties": {"type": {"enum": values}}}
            node["allOf"].append({"if": guard, "then": branch})


@cache
def _prepared(direction: str) -> dict[str, Any]:
    """The document as checked in one direction: strict request objects, deviations applied."""
    doc: dict[str, Any] = copy.deepcopy(_document())
    if direction == "request":
        _strict(doc["$defs"])
        for entry in doc["routes"].values():
            _strict([entry["query"], entry.get("request")])
    for deviation in DEVIATIONS:
        if deviation.direction in (direction, "both"):
            deviation.patch(doc)
    _const_unions_as_enums(doc)
    _dispatch_on_kind(doc, doc["$defs"])
    return doc


def _defs(direction: str) -> Defs:
    defs: Defs = _prepared(direction)["$defs"]
    return defs


@cache
def _validator(route: str, direction: str, key: str) -> Draft202012Validator | None:
    """The compiled validator for a route's ``request``, ``query`` or response ``key``."""
    doc = _prepared(direction)
    entry = doc["routes"][route]
    schema = entry["responses"].get(key) if direction == "response" else entry.get(key)
    if schema is None:
        return None
    return Draft202012Validator({**schema, "$defs": doc["$defs"]})


def known(route: str) -> bool:
    return route in _document()["routes"]


def _describe(where: str, error: ValidationError) -> str:
    at = "/".join(str(p) for p in error.absolute_path) or "(root)"
    message = error.message if len(error.message) < 300 else error.message[:300] + "..."
    return f"{where} at {at}: {message}"


def _discriminator_mismatch(errors: list[ValidationError]) -> bool:
    """A union branch written for another kind (its ``type`` const differs)."""
    return any(
        e.validator in ("const", "enum") and list(e.relative_path) == ["type"] for e in errors
    )


def _named(errors: list[ValidationError]) -> list[ValidationError]:
    """A property that fails its schema leaves its siblings "unevaluated" too: name the failure."""
    return [e for e in errors if e.validator != "unevaluatedProperties"] or errors


def _deepest(error: ValidationError) -> ValidationError:
    """Inside a union (``oneOf``/``anyOf``), the error of the branch the payload's kind selects."""
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        chosen = [errs for errs in branches.values() if not _discriminator_mismatch(errs)]
        if not chosen:
            break
        # Several left (``null`` or an object, say): the one that got furthest into the payload.
        best = max(chosen, key=lambda errs: max(len(e.path) for e in errs))
        error = max(_named(best), key=relevance)
    return error


def _first_error(validator: Draft202012Validator, instance: Any) -> ValidationError | None:
    errors = list(validator.iter_errors(instance))
    return _deepest(max(_named(errors), key=relevance)) if errors else None


def _resolve(schema: dict[str, Any], defs: Defs) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].removeprefix("#/$defs/")]
    return schema


def _query_value(schema: dict[str, Any], raw: str) -> Any:
    """A query string value as the JSON the spec types it (``limit=50`` is an integer).

    Discord reads a boolean query value from ``true``/``false`` and ``1``/``0`` (its API
    reference, "Boolean Query Strings"), so both spellings are booleans here.
    """
    types = _resolve(schema, _defs("request")).get("type")
    types = [types] if isinstance(types, str) else types or []
    if "boolean" in types and raw.lower() in ("true", "false", "1", "0"):
        return raw.lower() in ("true", "1")
    if "integer" in types:
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw


def check_request(method: str, template: str, query: dict[str, str], body: Any) -> list[str]:
    route = f"{method} {template}"
    entry = _prepared("request")["routes"][route]
    problems: list[str] = []
    query_validator = _validator(route, "request", "query")
    if query_validator is not None and query:
        props = entry["query"]["properties"]
        typed = {k: _query_value(props.get(k, {}), v) for k, v in query.items()}
        error = _first_error(query_validator, typed)
        if error is not None:
            problems.append(_describe(f"query of {route}", error))
    body_validator = _validator(route, "request", "request")
    if body_validator is None:
        if body not in (None, {}, ""):
            problems.append(f"body of {route}: the spec defines no body, got {body!r:.200}")
    elif body is None:
        if entry.get("request_required"):
            problems.append(f"body of {route}: required by the spec, none sent")
    else:
        error = _first_error(body_validator, body)
        if error is not None:
            problems.append(_describe(f"body of {route}", error))
    return problems


def check_response(method: str, template: str, status: int, body: Any) -> list[str]:
    """Problems of an answer; 5xx answers are not described by the spec (faults send them)."""
    route = f"{method} {template}"
    if status >= 500:
        return []
    responses = _document()["routes"][route]["responses"]
    key = next((k for k in (str(status), f"{status // 100}XX") if k in responses), None)
    if key is None:
        return [f"answer of {route}: status {status} is not one the spec lists {sorted(responses)}"]
    validator = _validator(route, "response", key)
    if validator is None:
        if body is not None:
            return [f"answer of {route}: status {status} has no body in the spec, got one"]
        return []
    if body is None:
        return [f"answer of {route}: status {status} needs a JSON body, got none"]
    error = _first_error(validator, body)
    return [] if error is None else [_describe(f"answer {status} of {route}", error)]
