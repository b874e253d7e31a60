"""The question page's structured data: a schema.org ``DiscussionForumPosting``.

Why not ``QAPage``: Google's Q&A guidelines allow it only on pages where people can submit an
answer to the question; here they answer in Discord, through the page's link. Google's
discussion-forum guidelines cover exactly this: a forum thread shown on the web. Required there:
``author`` (with ``name``), ``datePublished``, and ``text`` (or an image or video); recommended:
``author.url``, ``comment``, ``creativeWorkStatus``, ``dateModified``, ``headline``,
``interactionStatistic``, ``isPartOf``, ``mainEntityOfPage``, ``url``. Each ``Comment`` requires
``author``, ``datePublished`` and ``text`` and is recommended ``url``, ``interactionStatistic``
and its own ``comment``s. The accepted answer is marked by its type, ``Answer`` (a ``Comment``
in schema.org's hierarchy), listed first, as the page shows it.

Withheld posts (their author did not say yes) are not in the data at all: the page shows only
the placeholder sentence, and structured data must not describe what the page does not show.
No author ever gets a ``url``: a profile link would make an author linkable across questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.forum.publishing import PublishedPost, PublishedThread
from bot.web.render import iso

_LIKE = "https://schema.org/LikeAction"
_REPLY = "https://schema.org/ReplyAction"


def _counter(action: str, count: int) -> dict[str, Any]:
    return {"@type": "InteractionCounter", "interactionType": action, "userInteractionCount": count}


def _person(name: str | None) -> dict[str, Any]:
    return {"@type": "Person", "name": name or "A member"}


def _comment(post: PublishedPost, url: str, replies: Sequence[PublishedPost]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "@type": "Answer" if post.accepted else "Comment",
        "text": post.body,
        "author": _person(post.author),
        "datePublished": iso(post.created_at),
        "url": f"{url}#p{post.id}",
        "interactionStatistic": [_counter(_LIKE, post.upvotes)],
    }
    shown = [_comment(reply, url, ()) for reply in replies if not reply.withheld]
    if shown:
        item["comment"] = shown
    return item


def posting(
    thread: PublishedThread,
    answers: Sequence[PublishedPost],
    *,
    url: str,
    category_url: str,
    replies: dict[int, list[PublishedPost]],
) -> dict[str, Any]:
    """The ``DiscussionForumPosting`` of a question page at ``url`` (``answers`` in page order,
    ``replies``: the comments under each post id, the question's under its own id)."""
    question = thread.question
    comments = [_comment(a, url, replies.get(a.id, ())) for a in answers if not a.withheld]
    comments += [_comment(c, url, ()) for c in replies.get(question.id, ()) if not c.withheld]
    return {
        "@context": "https://schema.org",
        "@type": "DiscussionForumPosting",
        "@id": url,
        "url": url,
        "mainEntityOfPage": url,
        "headline": question.title,
        "text": question.body or question.title,
        "author": _person(question.author),
        "datePublished": iso(question.created_at),
        "dateModified": iso(question.last_activity_at),
        "creativeWorkStatus": "Solved" if question.accepted_answer_id else question.status.title(),
        "isPartOf": {"@type": "WebPage", "name": question.category, "url": category_url},
        "interactionStatistic": [
            _counter(_REPLY, question.answer_count),
            _counter(_LIKE, question.upvotes),
        ],
        "comment": comments,
    }
