"""The fake checks every request and answer against Discord's published schemas, and the check
can fail: wrong types, unknown fields of strict request objects, answers missing what Discord
always sends. Deviations are named, each widening exactly what it says."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from tests.fakediscord.recorder import Call
from tests.fakediscord.rest import Reply
from tests.fakediscord.schemas import validate
from tests.fakediscord.server import FakeDiscord

MESSAGES = "/channels/{channel_id}/messages"


@asynccontextmanager
async def _raw_fake() -> AsyncIterator[tuple[FakeDiscord, Callable[[Any], Any]]]:
    """A started fake with its default scene, and ``post(body)`` for the general channel."""
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        fake.build_default_scene()
        assert fake.general is not None
        headers = {"Authorization": f"Bot {fake.token}", "Content-Type": "application/json"}
        url = f"{fake.api_base}/channels/{fake.general.id}/messages"

        def post(body: Any) -> Any:
            return http.post(url, data=json.dumps(body), headers=headers)

        yield fake, post


def _message_answer() -> dict[str, Any]:
    author = {
        "id": "2",
        "username": "qa-bot",
        "discriminator": "0",
        "avatar": None,
        "global_name": None,
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
    }
    return {
        "id": "10",
        "channel_id": "1",
        "type": 0,
        "content": "hi",
        "author": author,
        "attachments": [],
        "embeds": [],
        "mentions": [],
        "mention_roles": [],
        "pinned": False,
        "mention_everyone": False,
        "tts": False,
        "timestamp": "2026-01-01T00:00:00.000000+00:00",
        "edited_timestamp": None,
        "flags": 0,
        "components": [],
    }


def test_a_wrong_type_in_a_request_is_caught() -> None:
    assert validate.check_request("POST", MESSAGES, {}, {"content": "hi", "tts": False}) == []
    (problem,) = validate.check_request("POST", MESSAGES, {}, {"content": "hi", "tts": "yes"})
    assert "body of POST /channels/{channel_id}/messages at tts" in problem
    assert "is not of type 'boolean'" in problem


def test_an_unknown_field_of_a_strict_request_object_is_caught() -> None:
    embed = {"title": "t", "description": "d"}
    assert validate.check_request("POST", MESSAGES, {}, {"embeds": [embed]}) == []
    (problem,) = validate.check_request("POST", MESSAGES, {}, {"embed": embed})
    assert "'embed' was unexpected" in problem
    (nested,) = validate.check_request("POST", MESSAGES, {}, {"embeds": [{**embed, "colour": 1}]})
    assert "at embeds/0" in nested and "'colour' was unexpected" in nested


def test_a_union_member_is_checked_by_its_kind() -> None:
    route = "/interactions/{interaction_id}/{interaction_token}/callback"
    good = {"type": 4, "data": {"content": "ok"}}
    assert validate.check_request("POST", route, {"with_response": "true"}, good) == []
    (problem,) = validate.check_request("POST", route, {}, {"type": 4, "data": {"content": 4}})
    assert "at data/content" in problem and "is not of type 'string'" in problem


def test_query_strings_are_typed_and_strict() -> None:
    route = "/channels/{channel_id}/messages"
    assert validate.check_request("GET", route, {"limit": "50", "before": "123"}, None) == []
    # Discord reads booleans from 1/0 as from true/false
    interaction = "/interactions/{interaction_id}/{interaction_token}/callback"
    body = {"type": 6}
    assert validate.check_request("POST", interaction, {"with_response": "1"}, body) == []
    (too_many,) = validate.check_request("GET", route, {"limit": "500"}, None)
    assert "query of GET /channels/{channel_id}/messages at limit" in too_many
    (unknown,) = validate.check_request("GET", route, {"lmit": "5"}, None)
    assert "'lmit' was unexpected" in unknown


def test_an_answer_missing_a_required_field_is_caught() -> None:
    answer = _message_answer()
    assert validate.check_response("POST", MESSAGES, 200, answer) == []
    del answer["author"]
    (problem,) = validate.check_response("POST", MESSAGES, 200, answer)
    assert "answer 200 of POST /channels/{channel_id}/messages" in problem
    assert "'author' is a required property" in problem


def test_answers_match_their_status() -> None:
    reaction = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me"
    assert validate.check_response("PUT", reaction, 204, None) == []
    (body_on_204,) = validate.check_response("PUT", reaction, 204, {"ok": True})
    assert "has no body in the spec" in body_on_204
    (unlisted,) = validate.check_response("PUT", reaction, 200, None)
    assert "status 200 is not one the spec lists" in unlisted
    error = {"code": 10008, "message": "Unknown Message"}
    assert validate.check_response("PUT", reaction, 404, error) == []
    (bad_error,) = validate.check_response("PUT", reaction, 404, {"message": "Unknown Message"})
    assert "'code' is a required property" in bad_error
    # 5xx answers (faults) are not described by the spec
    assert validate.check_response("PUT", reaction, 502, None) == []


def test_integer_snowflakes_are_a_named_request_deviation_only() -> None:
    names = [d.name for d in validate.DEVIATIONS]
    assert "snowflakes as JSON integers" in names
    body = {"content": "hi", "allowed_mentions": {"parse": [], "users": [123]}}
    assert validate.check_request("POST", MESSAGES, {}, body) == []
    answer = {**_message_answer(), "id": 10}
    (problem,) = validate.check_response("POST", MESSAGES, 200, answer)
    assert "at id" in problem


def test_field_error_codes_are_strings_as_discord_sends_them() -> None:
    errors = {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Too long."}]}}
    body = {"code": 50035, "message": "Invalid Form Body", "errors": errors}
    assert validate.check_response("POST", MESSAGES, 400, body) == []
    errors["content"]["_errors"][0]["code"] = 7  # type: ignore[index]
    (problem,) = validate.check_response("POST", MESSAGES, 400, body)
    assert "errors/content/_errors/0/code" in problem


def test_every_deviation_is_named_explained_and_changes_the_schema() -> None:
    for deviation in validate.DEVIATIONS:
        assert deviation.name and len(deviation.reason) > 40
        assert deviation.direction in ("request", "response", "both")
        before = copy.deepcopy(validate._document())
        after = copy.deepcopy(before)
        deviation.patch(after)
        assert after != before, deviation.name


def test_the_schema_file_names_its_source_and_covers_every_route() -> None:
    doc = json.loads(validate.SCHEMA_FILE.read_text())
    assert doc["source"]["repository"] == "https://github.com/discord/discord-api-spec"
    assert len(doc["source"]["commit"]) == 40
    fake = FakeDiscord()
    for method, template in fake.rest.router.routes():
        assert validate.known(f"{method} {template}"), (method, template)


async def test_the_fake_fails_the_test_on_a_violation_both_ways() -> None:
    async with _raw_fake() as (fake, post):
        async with post({"content": "ok"}) as resp:
            assert resp.status == 200
        fake.assert_clean()

        # a misspelled field Discord would silently ignore
        async with post({"content": "x", "embed": {}}):
            pass
        with pytest.raises(AssertionError, match=r"schema: POST .*'embed' was unexpected"):
            fake.assert_clean()
        fake.recorder.calls[-1].schema_errors.clear()

        # an answer the fake shapes wrongly
        def drop_author(call: Call, reply: Reply) -> None:
            if call.route == MESSAGES and call.method == "POST":
                reply.body.pop("author")

        fake.rest.reply_hooks.append(drop_author)
        async with post({"content": "y"}):
            pass
        with pytest.raises(AssertionError, match=r"answer 200 .*'author' is a required property"):
            fake.assert_clean()
        fake.rest.reply_hooks.remove(drop_author)
        fake.recorder.calls[-1].schema_errors.clear()
        fake.assert_clean()


async def test_a_request_refused_as_an_invalid_form_body_is_not_counted_twice() -> None:
    async with _raw_fake() as (fake, post):
        body = {"embeds": [{"title": "t" * 300}]}  # the spec's limit is 256, as the rules'
        assert validate.check_request("POST", MESSAGES, {}, body) != []
        async with post(body) as resp:
            assert resp.status == 400
            assert (await resp.json())["code"] == 50035
        fake.assert_clean()  # refused as Discord refuses it: the test sees the 400 itself


async def test_stored_embeds_and_components_are_answered_as_discord_answers_them() -> None:
    async with _raw_fake() as (fake, post):
        button = {"type": 2, "style": 1, "custom_id": "next", "emoji": {"id": None, "name": "▶"}}
        embed = {"title": "t", "fields": [{"name": "n", "value": "v"}]}
        body = {
            "content": "page",
            "embeds": [embed],
            "components": [{"type": 1, "components": [button]}],
        }
        async with post(body) as resp:
            answer = await resp.json()
        (row,) = answer["components"]
        assert row["id"] == 1 and row["components"][0]["id"] == 2
        assert row["components"][0]["emoji"] == {"name": "▶"}
        (stored,) = answer["embeds"]
        assert stored["type"] == "rich" and stored["fields"][0]["inline"] is False
        fake.assert_clean()
