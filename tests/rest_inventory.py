"""Every REST call site of the bot, by class of call, and the end-to-end fault tests of each
class. ``tests/test_rest_calls.py`` finds the call sites in ``bot/`` and ``cogs/`` and fails on
one missing here (or listed here and gone): a new call joins the class of what it does, and the
class's tests are where its faults are shown to be handled. ``NOT_REST`` marks a call that only
shares a name with a discord.py method (the test finds calls by name).

A key is ``module:function:receiver.method``; several calls of one method in one function share
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

NOT_REST: Final = "not-rest"

REST_FAULTS: Final = "tests/cogs/test_rest_faults.py"
THREAD_FAULTS: Final = "tests/cogs/test_rest_faults_threads.py"
GATEWAY_FAULTS: Final = "tests/cogs/test_gateway_faults.py"
NOTIFIER: Final = "tests/bot/workers/test_notifier.py"


@dataclass(frozen=True)
class Coverage:
    """What a class of calls does, and the tests that fault it end to end."""

    what: str
    tests: tuple[str, ...]


CLASSES: Final[dict[str, Coverage]] = {
    "interaction": Coverage(
        "interaction responses: defer, send_message, send_modal, edit_message, followups and "
        "edits of the original (webhook adapter, bounded by REST_REQUEST_TIMEOUT)",
        (
            f"{REST_FAULTS}::test_interaction_answers_survive_rate_limits_per_route_and_global",
            f"{REST_FAULTS}::test_a_rate_limit_discord_py_does_not_wait_out_is_one_sentence",
            f"{REST_FAULTS}::test_interaction_answers_survive_5xx_and_a_request_with_no_answer_is_bounded",
            f"{REST_FAULTS}::test_an_expired_interaction_is_logged_and_the_next_one_answered",
            f"{REST_FAULTS}::test_an_interaction_already_acknowledged_is_answered_by_a_followup",
            f"{GATEWAY_FAULTS}::test_a_silent_gateway_is_resumed_and_nothing_sent_meanwhile_is_lost",
        ),
    ),
    "thread_post": Coverage(
        "messages and threads the bot posts in a server: questions, answers for members, notices, "
        "report cards, the moderators' permission notice and weekly digest",
        (
            f"{REST_FAULTS}::test_posts_in_threads_survive_rate_limits_and_5xx",
            f"{REST_FAULTS}::test_a_thread_post_with_no_answer_is_bounded_and_left_for_reconciliation",
            f"{REST_FAULTS}::test_a_locked_thread_refusal_is_one_sentence_and_nothing_is_stored",
            f"{REST_FAULTS}::test_a_missing_permission_is_told_to_the_moderators_once",
            f"{REST_FAULTS}::test_without_a_moderator_channel_the_next_setup_reply_tells",
            f"{REST_FAULTS}::test_a_moderator_channel_refusing_the_bot_hands_the_notices_to_setup",
        ),
    ),
    "message_edit": Coverage(
        "edits of the bot's own messages: status lines, question and answer embeds, cards",
        (
            f"{REST_FAULTS}::test_status_line_edits_survive_rate_limits_and_5xx",
            f"{REST_FAULTS}::test_missing_access_never_deletes_a_question",
            f"{REST_FAULTS}::test_a_question_deleted_behind_the_bots_back_is_marked_deleted",
        ),
    ),
    "thread_edit": Coverage(
        "thread and forum edits: archive, lock, tags, renames, forum tags",
        (
            f"{THREAD_FAULTS}::test_closing_goes_through_rate_limits_and_5xx_on_the_thread_edit",
            f"{THREAD_FAULTS}::test_a_refused_thread_edit_keeps_the_change_and_says_so",
        ),
    ),
    "delete": Coverage(
        "messages and threads the bot deletes (one already gone counts as done)",
        (f"{THREAD_FAULTS}::test_deleting_a_question_whose_thread_is_already_gone_counts_as_done",),
    ),
    "reaction": Coverage(
        "the bot's vote reactions, removed self-votes, reading who reacted",
        (
            f"{REST_FAULTS}::test_vote_reactions_survive_rate_limits_per_route_and_global",
            f"{REST_FAULTS}::test_a_missing_permission_is_told_to_the_moderators_once",
            "tests/cogs/test_reaction_reread.py::test_a_live_gesture_during_the_re_read_keeps_its_effect",
        ),
    ),
    "dm": Coverage(
        "DMs: opening the channel, sending (with a nonce), looking for a sent DM, editing one",
        (
            f"{NOTIFIER}::test_5xx_then_success_delivers_exactly_once",
            f"{NOTIFIER}::test_a_timeout_is_retried_with_the_same_nonce_and_shown_once",
            f"{NOTIFIER}::test_rate_limits_that_outlast_discord_py_are_retried",
            f"{NOTIFIER}::test_dms_closed_stop_at_once_and_mark_the_user",
            f"{NOTIFIER}::test_a_stale_dm_channel_is_opened_again",
        ),
    ),
    "fetch": Coverage(
        "reads: channels, threads, messages, history, members, AutoMod rules",
        (
            "tests/cogs/test_reconciliation.py::test_a_request_that_hangs_is_cut_off_and_the_next_run_catches_up",
            "tests/cogs/test_bans_and_departures.py::test_a_failed_look_up_is_retried_not_taken_for_a_departure",
            "tests/bot/workers/test_memberships.py::test_a_slow_look_up_times_out_and_is_asked_again",
            f"{GATEWAY_FAULTS}::test_a_dropped_connection_and_an_invalid_session_lose_no_vote",
            "tests/cogs/test_reconciliation.py::test_a_thread_deleted_while_stopped_deletes_its_question",
            "tests/cogs/test_reconciliation.py::test_missing_access_to_one_thread_deletes_nothing_and_the_others_catch_up",
        ),
    ),
    "roles": Coverage(
        "point roles given and taken",
        ("tests/cogs/test_profiles.py::test_point_roles_are_given_through_rate_limits_and_5xx",),
    ),
    "startup": Coverage(
        "logging in (an unreachable Discord is one sentence)",
        ("tests/bot/test_cli.py::test_unreachable_api_is_one_sentence_and_token_never_logged",),
    ),
}

INVENTORY: Final[dict[str, str]] = {
    "bot.automod:AutoModRules.rules_of:guild.fetch_automod_rules": "fetch",
    "bot.automod:_channel_ids:guild.fetch_channel": "fetch",
    "bot.blocking:drop_blocked_message:message.delete": "delete",
    "bot.errors:send_ephemeral:followup.send": "interaction",
    "bot.errors:send_ephemeral:response.send_message": "interaction",
    "bot.permission_notices:PermissionNotices._deliver:channel.send": "thread_post",
    "bot.premod:hold_for_review:channel.send": "thread_post",
    "bot.premod:hold_for_review:followup.send": "interaction",
    "bot.reaction_sync:_members:http.get_reaction_users": "reaction",
    "bot.reaction_sync:_message:channel.fetch_message": "fetch",
    "bot.runtime:_login:bot.login": "startup",
    "bot.threads:fetch_thread:guild.fetch_channel": "fetch",
    "bot.ui.questions:status_line:SEPARATOR.join": NOT_REST,
    "bot.ui.reports:queue_line:SEPARATOR.join": NOT_REST,
    "bot.ui.views:ConfirmView._decide:response.edit_message": "interaction",
    "bot.ui.views:ConfirmView.interaction_check:response.send_message": "interaction",
    "bot.ui.views:ConfirmView.on_timeout:message.edit": "message_edit",
    "bot.ui.views:Paginator.callback:interaction.edit_original_response": "interaction",
    "bot.ui.views:Paginator.callback:response.defer": "interaction",
    "bot.ui.views:Paginator.interaction_check:response.send_message": "interaction",
    "bot.ui.views:Paginator.start:followup.send": "interaction",
    "bot.ui.views:Paginator.start:response.defer": "interaction",
    "bot.ui.views:confirm:followup.send": "interaction",
    "bot.ui.views:confirm:response.send_message": "interaction",
    "bot.workers.direct_messages:DirectMessages._open:http.start_private_message": "dm",
    "bot.workers.digests:StatsDigests._digest:channel.send": "thread_post",
    "bot.workers.direct_messages:DirectMessages._post:channel.send": "dm",
    "bot.workers.direct_messages:DirectMessages.find_sent:channel.history": "dm",
    "bot.workers.memberships:Memberships.is_member:http.get_member": "fetch",
    "bot.workers.notifier:Notifier._deliver:dms.send": "dm",
    "bot.workers.reconcile_steps:_catch_up_thread:channel.history": "fetch",
    "bot.workers.reconcile_steps:_repage_thread:channel.history": "fetch",
    "bot.workers.reconcile_steps:_starter:thread.fetch_message": "fetch",
    "bot.workers.reconcile_steps:complete_pending:channel.history": "fetch",
    "bot.workers.reconcile_steps:list_threads:forum.archived_threads": "fetch",
    "bot.workers.role_sync:RoleSync.sync_member:guild.fetch_member": "fetch",
    "bot.workers.role_sync:RoleSync.sync_member:member.add_roles": "roles",
    "bot.workers.role_sync:RoleSync.sync_member:member.remove_roles": "roles",
    "bot.workers.status_lines:StatusLines._edit_starter:message.edit": "message_edit",
    "bot.workers.status_lines:StatusLines._edit_starter:message.fetch": "fetch",
    "bot.workers.status_lines:StatusLines._render:message.edit": "message_edit",
    "bot.workers.status_lines:StatusLines._render_archived:bot.fetch_channel": "fetch",
    "bot.workers.status_lines:StatusLines._render_archived:thread.edit": "thread_edit",
    "bot.workers.thread_renames:ThreadRenames._apply:thread.edit": "thread_edit",
    "bot.workers.vote_writer:VoteWriter._remove_uncounted_vote:message.remove_reaction": "reaction",
    "bot.workers.vote_writer:VoteWriter.wait_idle:_queue.join": NOT_REST,
    "cogs.admin._cog:Admin.status:response.send_message": "interaction",
    "cogs.admin.categories:_add_category:forum.create_tag": "thread_edit",
    "cogs.admin.categories:_remove_category:forum.edit": "thread_edit",
    "cogs.admin.categories:change_category:followup.send": "interaction",
    "cogs.admin.categories:change_category:response.defer": "interaction",
    "cogs.admin.forum_setup:set_up_forum:followup.send": "interaction",
    "cogs.admin.forum_setup:set_up_forum:fresh.create_tag": "thread_edit",
    "cogs.admin.forum_setup:set_up_forum:response.defer": "interaction",
    "cogs.admin.forum_tags:fetch_forum:guild.fetch_channel": "fetch",
    "cogs.admin.guild_settings:_confirm:response.send_message": "interaction",
    "cogs.admin.guild_settings:show_settings:followup.send": "interaction",
    "cogs.admin.guild_settings:show_settings:response.send_message": "interaction",
    "cogs.admin.point_roles:add_role:followup.send": "interaction",
    "cogs.admin.point_roles:add_role:response.defer": "interaction",
    "cogs.admin.point_roles:remove_role:response.send_message": "interaction",
    "cogs.admin.point_roles:show_roles:response.send_message": "interaction",
    "cogs.answering._cog:Answering.edit:response.send_modal": "interaction",
    "cogs.answering._cog:Answering.reply:replies.reply": NOT_REST,
    "cogs.answering.acceptance:_find_notice:channel.history": "fetch",
    "cogs.answering.acceptance:_post_notice:channel.send": "thread_post",
    "cogs.answering.acceptance:_post_notice:notice.edit": "message_edit",
    "cogs.answering.acceptance:_post_notice:notice.pin": "thread_post",
    "cogs.answering.acceptance:_set_solved_tag:thread.edit": "thread_edit",
    "cogs.answering.acceptance:_show_acceptance:marked.add_reaction": "reaction",
    "cogs.answering.acceptance:_show_acceptance:old.remove_reaction": "reaction",
    "cogs.answering.acceptance:accept_answer:followup.send": "interaction",
    "cogs.answering.acceptance:accept_answer:response.defer": "interaction",
    "cogs.answering.acceptance:clear_acceptance:notice.delete": "delete",
    "cogs.answering.answers:open_answer_form:response.send_modal": "interaction",
    "cogs.answering.answers:post_answer:response.defer": "interaction",
    "cogs.answering.deleting:_delete_post:decided.edit_original_response": "interaction",
    "cogs.answering.deleting:_delete_post:message.delete": "delete",
    "cogs.answering.deleting:_delete_question:decided.edit_original_response": "interaction",
    "cogs.answering.deleting:_delete_question:followup.send": "interaction",
    "cogs.answering.deleting:_delete_question:thread.delete": "delete",
    "cogs.answering.deleting:delete_own_post:decided.edit_original_response": "interaction",
    "cogs.answering.deleting:delete_own_post:interaction.edit_original_response": "interaction",
    "cogs.answering.editing:_tell:followup.send": "interaction",
    "cogs.answering.editing:edit_post:message.edit": "message_edit",
    "cogs.answering.editing:edit_post:response.defer": "interaction",
    "cogs.answering.editing:edit_question:response.defer": "interaction",
    "cogs.answering.editing:edit_question:starter.edit": "message_edit",
    "cogs.answering.on_behalf:post_for_member:followup.send": "interaction",
    "cogs.answering.on_behalf:publish_member_post:channel.send": "thread_post",
    "cogs.answering.replies:reply:response.defer": "interaction",
    "cogs.asking._cog:Asking.ask:response.send_modal": "interaction",
    "cogs.asking.adoption:NativePosts._post_status_reply:thread.send": "thread_post",
    "cogs.asking.anonymity:found_names:http.request": "fetch",
    "cogs.asking.form:submit_question:response.defer": "interaction",
    "cogs.asking.gate:_DraftButton.callback:response.defer": "interaction",
    "cogs.asking.gate:_drop_buttons:interaction.edit_original_response": "interaction",
    "cogs.asking.gate:hold_if_similar:followup.send": "interaction",
    "cogs.asking.publishing:add_vote_reactions:message.add_reaction": "reaction",
    "cogs.asking.publishing:post_question:forum.create_thread": "thread_post",
    "cogs.asking.publishing:publish:followup.send": "interaction",
    "cogs.discovery:Discovery.search_command:followup.send": "interaction",
    "cogs.discovery:Discovery.search_command:response.defer": "interaction",
    "cogs.discovery:Discovery.unanswered_command:followup.send": "interaction",
    "cogs.discovery:Discovery.unanswered_command:response.defer": "interaction",
    "cogs.lifecycle.closed_threads:ClosedThreads.written_in:message.reply": "thread_post",
    "cogs.lifecycle.closed_threads:ClosedThreads.written_in:thread.edit": "thread_edit",
    "cogs.lifecycle.closing:_reply:followup.send": "interaction",
    "cogs.lifecycle.closing:_request:response.defer": "interaction",
    "cogs.lifecycle.closing:_send:channel.send": "thread_post",
    "cogs.lifecycle.closing:archive:thread.edit": "thread_edit",
    "cogs.lifecycle.closing:reopen:thread.edit": "thread_edit",
    "cogs.lifecycle.discord_sync:_delete_message:deletion.delete_message": NOT_REST,
    "cogs.lifecycle.discord_sync:message_edited:edits.edit_message": NOT_REST,
    "cogs.moderation.actions:BlockButton.act:response.send_modal": "interaction",
    "cogs.moderation.actions:RemoveButton.act:response.send_modal": "interaction",
    "cogs.moderation.actions:RestoreButton.act:response.defer": "interaction",
    "cogs.moderation.actions:_Form.on_submit:response.defer": "interaction",
    "cogs.moderation.actions:_reply:followup.send": "interaction",
    "cogs.moderation.actions:moderate_post:followup.send": "interaction",
    "cogs.moderation.actions:moderate_post:response.defer": "interaction",
    "cogs.moderation.blocks:UnblockButton.act:followup.send": "interaction",
    "cogs.moderation.blocks:UnblockButton.act:response.defer": "interaction",
    "cogs.moderation.blocks:show_blocks:response.send_message": "interaction",
    "cogs.moderation.premod:CardButton.callback:response.send_modal": "interaction",
    "cogs.moderation.premod:_show_decision:(...).edit": "message_edit",
    "cogs.moderation.premod:_show_decision:followup.send": "interaction",
    "cogs.moderation.premod:approve:held_publishers.publish": NOT_REST,
    "cogs.moderation.premod:approve:response.defer": "interaction",
    "cogs.moderation.premod:reject:response.defer": "interaction",
    "cogs.moderation.removal:_notice:(...).fetch": "fetch",
    "cogs.moderation.removal:_notice:starter.edit": "message_edit",
    "cogs.moderation.removal:_still_there:(...).fetch": "fetch",
    "cogs.moderation.removal:show_removed:message.delete": "delete",
    "cogs.moderation.removal:show_removed:thread.edit": "thread_edit",
    "cogs.moderation.removal:show_restored:channel.send": "thread_post",
    "cogs.moderation.removal:show_restored:thread.edit": "thread_edit",
    "cogs.moderation.reports:DismissReports.act:response.edit_message": "interaction",
    "cogs.moderation.reports:ReportForm.on_submit:followup.send": "interaction",
    "cogs.moderation.reports:ReportForm.on_submit:response.defer": "interaction",
    "cogs.moderation.reports:open_report_form:response.send_modal": "interaction",
    "cogs.moderation.reports:show_card:card.edit": "message_edit",
    "cogs.moderation.reports:show_card:channel.send": "thread_post",
    "cogs.moderation.stats:show_stats:followup.send": "interaction",
    "cogs.moderation.stats:show_stats:response.defer": "interaction",
    "cogs.mydata._cog:MyData._erase:followup.send": "interaction",
    "cogs.mydata._cog:MyData._export:followup.send": "interaction",
    "cogs.mydata._cog:MyData._export:response.defer": "interaction",
    "cogs.mydata._cog:MyData._send_dm:user.send": "dm",
    "cogs.mydata.effects:_apply:message.delete": "delete",
    "cogs.mydata.effects:_apply:message.edit": "message_edit",
    "cogs.mydata.effects:_message:user.create_dm": "dm",
    "cogs.notifications:Notifications._set_following:response.send_message": "interaction",
    "cogs.notifications:Notifications._tell_if_dms_closed:followup.send": "interaction",
    "cogs.notifications:Notifications._tell_if_dms_closed:response.send_message": "interaction",
    "cogs.notifications:Notifications.notifications:response.send_message": "interaction",
    "cogs.notifications:Notifications.on_qa_post_deleted:message.edit": "dm",
    "cogs.profiles:Profiles.profile_command:followup.send": "interaction",
    "cogs.profiles:Profiles.profile_command:response.defer": "interaction",
    "cogs.resources:Resources._dm:user.send": "dm",
    "cogs.resources:Resources._set_dm:response.send_message": "interaction",
    "cogs.resources:Resources.on_qa_question_posted:followup.send": "interaction",
    "cogs.resources:Resources.resources:response.send_message": "interaction",
}
