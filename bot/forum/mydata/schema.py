"""The ``schema`` key of an export: what each section and field means (``export_member``)."""

from __future__ import annotations

from typing import Any, Final

SCHEMA_VERSION: Final = 1

_TOTALS_MEANING: Final = {
    "points": "public points earned (the server's starting points not included)",
    "anon_points": "points earned through anonymous posts: shown to you alone",
    "questions": "named questions counted",
    "answers": "named answers counted",
    "accepted_answers": "named answers of yours accepted",
    "upvotes_received": "up votes counted on your named posts",
    "downvotes_received": "down votes counted on your named posts",
}

SCHEMA: Final[dict[str, Any]] = {
    "version": SCHEMA_VERSION,
    "about": (
        "Everything qa-bot stores about you, for one server (scope: its id) or for every "
        "server (scope: 'every server'). Times are UTC (ISO 8601); ids are Discord's or "
        "qa-bot's own post ids."
    ),
    "sections": {
        "posts": {
            "about": "Your questions, answers and comments, anonymous ones included and marked.",
            "fields": {
                "id": "qa-bot's post id",
                "guild_id": "the server",
                "kind": "question, answer or comment",
                "question_id": "the question an answer or comment belongs to",
                "parent_id": "the post a comment comments on",
                "thread_id": "the question's thread",
                "message_id": "the Discord message",
                "anonymous": "posted anonymously (shown to others as a name you chose, a "
                "pseudonym or 'Anonymous')",
                "via_bot": "posted by the bot for you (/ask, /answer, /reply)",
                "display_name": "the name shown on an anonymous post, or the name remembered",
                "title": "a question's title",
                "body": "the text",
                "category": "a question's category",
                "status": "open, answered, solved or closed",
                "score": "the post's score (up votes minus down votes counted)",
                "accepted_answer_id": "a question's accepted answer",
                "created_at / updated_at / closed_at / deleted_at / removed_at": "when",
                "removal_reason": "the reason a moderator gave when removing it",
                "publish_consent": "your public-archive choice for it (empty: your default)",
            },
        },
        "pseudonyms": {
            "about": "Your pseudonym in each thread where you posted anonymously.",
            "fields": {"question_id": "the question", "pseudonym": "as shown ('Member 2')"},
        },
        "votes": {
            "about": (
                "The votes you cast. On a named post: its kind, question and message; on an "
                "anonymous, deleted or removed post: its id only."
            ),
            "fields": {
                "post_id": "the post",
                "guild_id": "the server",
                "up / down": "your up and down reactions (a vote is up minus down)",
                "kind / question_id / message_id": "for a named post only",
                "updated_at": "when the vote last changed",
            },
        },
        "points": {
            "about": "Your points per server and how they were earned, post by post.",
            "fields": {
                "guild_id": "the server",
                "cached": "the totals qa-bot keeps for you",
                "by_post": "what each post added to you (your own posts, votes you cast where "
                "the server pays for voting, answers you accepted)",
                "rules": "the server's point values in force",
                "display_name": "the name qa-bot remembers for you in that server",
                **_TOTALS_MEANING,
            },
        },
        "preferences": {
            "about": "Your DM preferences and markers (one set for every server).",
            "fields": {
                "notifications": "DMs about answers on or off",
                "dms_closed_at": "when a DM to you was last refused",
                "dm_channel_id": "the DM channel with the bot",
                "erased_at": "when you erased your data",
                "resources_dm": "safety resources by DM",
            },
        },
        "follows": {
            "about": "The questions you follow.",
            "fields": {"question_id": "the question", "guild_id": "the server", "created_at": ""},
        },
        "reports": {
            "about": "The reports you made: your reason and the report's status.",
            "fields": {
                "post_id": "the post reported",
                "reason": "your reason",
                "status": "open, dismissed or actioned",
                "created_at / resolved_at": "when",
            },
        },
        "notifications": {
            "about": "The DMs queued or sent to you (their text is not kept in the export).",
            "fields": {
                "kind": "what it was about",
                "status": "pending, sending, sent, failed, undeliverable or cancelled",
                "question_id / post_id": "the question and the post it was about",
                "created_at / sent_at": "when",
            },
        },
        "held_posts": {
            "about": "Your posts held for a moderator's review, with what they would publish.",
            "fields": {
                "kind": "question, answer or comment",
                "status": "waiting, approved or rejected",
                "content": "what the post would publish",
                "reason": "a rejection's reason",
                "post_id": "the post it became once approved",
            },
        },
        "drafts": {
            "about": "Questions held by the similar-questions check of /ask.",
            "fields": {"title / details / category / anonymous / display_name": "the draft"},
        },
        "archive_choices": {
            "about": "Your public-archive choices per server (/privacy).",
            "fields": {
                "by_default": "your posts without their own choice are published",
                "named": "your name is shown on what is published",
            },
        },
        "blocks": {
            "about": "Moderators' blocks on you (who blocked is not given).",
            "fields": {
                "scope": "anonymous (no anonymous posts) or all (no posts through the bot)",
                "reason": "the reason given",
                "created_at / ends_at / lifted_at": "when (ends_at empty: until lifted)",
                "post_id": "the post the block was made through",
            },
        },
        "moderator_actions": {
            "about": "Actions you took as a moderator (the audit trail's entries naming you).",
            "fields": {"action": "what", "post_id": "on which post", "detail": "the detail"},
        },
    },
}
