"""How an incremental backup finds the changes of each table.

Journaled models (``crm.core.journal.register``) need no entry here: an incremental re-reads every
object the journal touched since the previous backup (plus a safety window), and every row whose
``updated_at`` moved in that time. What the journal does not see must be said here, explicitly:

- ``JOURNAL_COLUMNS``: columns a journaled model keeps out of its journal. Each is either
  ``watch`` (bookkeeping written behind the journal's back, with a plain ``QuerySet.update``: lead
  scores, "last contacted"...; the incremental compares a short hash of these columns per row with the
  previous backup's) or ``follows`` (it changes only together with journaled fields);
- ``TABLES``: every model the journal does not cover, with its policy:

  ``WHOLE``  small configuration tables, copied whole every time;
  ``LOG``    append-only tables: rows with a key above the previous backup's highest (or written in
             the safety window), and the lowest key still there (older rows purged);
  ``DIFF``   tables whose rows change in place: a short hash of every row is compared with the
             previous backup's; changed and new rows are copied, vanished ones become tombstones;
  ``SKIP``   not backed up at all.

``crm/dataprotection/tests/test_backup_policies.py`` fails when a model or a journal-excluded column
is not classified. Until it is, a model falls back to ``DIFF`` (exact, but it reads the whole table).
"""

from __future__ import annotations

from dataclasses import dataclass

JOURNAL = "journal"  # the journal says which rows changed
FOLLOW = "follow"  # many-to-many rows of a journaled owner: re-read with the owner
JOURNAL_LOG = "journal-log"  # the change journal itself
WHOLE = "whole"
LOG = "log"
DIFF = "diff"
SKIP = "skip"


@dataclass(frozen=True)
class Policy:
    kind: str
    reason: str = ""
    time_column: str = ""  # LOG: rows written in the safety window are read again
    watch: tuple[str, ...] = ()  # JOURNAL: columns compared by hash
    owner: str = ""  # FOLLOW: the column naming the owner


# Columns journaled models keep out of the journal: (watched, following).
JOURNAL_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accounts.user": (("last_login",), ()),
    "core.attachment": ((), ("sha256",)),  # set once, with the file
    "customers.contact": (("last_contacted_at",), ("name",)),  # name: from the journaled name fields
    "customers.merge": ((), ("snapshot",)),  # written once, when the merge is recorded
    "customers.task": (("reminded_at",), ()),
    "dataprotection.privacyrequest": (("state",), ()),
    "sales.assignmentrule": (("last_assigned",), ()),
    "sales.deal": (("rank", "last_activity_at"), ()),
    "sales.lead": (("score", "rule_score", "model_score", "score_reasons", "touched_at"), ()),
    "sales.leadform": (("submissions",), ()),
}

# Journaled tables whose change may come with rewrites the journal does not show: an incremental that
# finds one changed since the previous backup is made a full backup instead.
FULL_ON_CHANGE: dict[str, str] = {
    # Turning "sensitive" on or off re-encrypts (or decrypts) the field's value on every record.
    "customers.customfield": "a custom field changed: its values may have been re-encrypted on every record",
}

_CONFIG = "configuration: small, copied whole"
_LOOKUP = "lookup rows written by migrations: compared row by row"

TABLES: dict[str, Policy] = {
    # Django and the libraries it runs with
    "admin.logentry": Policy(LOG, "the admin's own log", time_column="action_time"),
    "auth.group": Policy(DIFF, _LOOKUP),
    "auth.group_permissions": Policy(DIFF, _LOOKUP),
    "auth.permission": Policy(DIFF, _LOOKUP),
    "contenttypes.contenttype": Policy(DIFF, _LOOKUP),
    "sessions.session": Policy(SKIP, "signed-in sessions: a restored site starts with everyone signed out"),
    "otp_totp.totpdevice": Policy(DIFF, "two-factor devices: counters change at every sign-in"),
    "axes.accessattempt": Policy(DIFF, "failed sign-ins being counted"),
    "axes.accessattemptexpiration": Policy(DIFF, "lock-out expiry"),
    "axes.accesslog": Policy(DIFF, "sign-ins, updated at sign-out"),
    "axes.accessfailurelog": Policy(LOG, "failed sign-ins", time_column="attempt_time"),
    "django_celery_beat.clockedschedule": Policy(WHOLE, _CONFIG),
    "django_celery_beat.crontabschedule": Policy(WHOLE, _CONFIG),
    "django_celery_beat.intervalschedule": Policy(WHOLE, _CONFIG),
    "django_celery_beat.periodictask": Policy(WHOLE, _CONFIG),
    "django_celery_beat.periodictasks": Policy(WHOLE, _CONFIG),
    "django_celery_beat.solarschedule": Policy(WHOLE, _CONFIG),
    "django_celery_results.chordcounter": Policy(DIFF, "task results, updated as tasks finish"),
    "django_celery_results.groupresult": Policy(DIFF, "task results, updated as tasks finish"),
    "django_celery_results.taskresult": Policy(DIFF, "task results, updated as tasks finish"),
    # The platform
    "core.journalentry": Policy(JOURNAL_LOG, "the change journal itself"),
    "core.journalseal": Policy(WHOLE, "the audit chain's head: one row"),
    "core.job": Policy(DIFF, "background jobs: progress and outcome change in place"),
    "core.notification": Policy(DIFF, "notifications: marked read in place"),
    "accounts.apitoken": Policy(DIFF, "API tokens: last use changes in place"),
    "accounts.recoverycode": Policy(DIFF, "two-factor recovery codes: marked used in place"),
    "customers.calendarfeed": Policy(DIFF, "calendar feed tokens"),
    # Journaled, but written with a plain bulk_create whenever the contact's addresses and numbers are
    # saved: re-read with the contact (every save of a contact moves its updated_at).
    "customers.contactemail": Policy(
        FOLLOW, "a contact's email addresses, re-read with the contact", owner="contact_id"
    ),
    "customers.contactphone": Policy(FOLLOW, "a contact's phone numbers, re-read with the contact", owner="contact_id"),
    "customers.duplicatecandidate": Policy(DIFF, "duplicate candidates: rescored and resolved in place"),
    "sales.forecastrun": Policy(DIFF, "forecast runs: computed in place"),
    "sales.scoringmodel": Policy(DIFF, "lead scoring models: activated in place"),
    "dataprotection.erasurerecord": Policy(DIFF, "the people erased"),
    "dataprotection.suppressedemail": Policy(LOG, "the suppression list only grows", time_column="created_at"),
    "dataprotection.retentionrun": Policy(DIFF, "retention runs: counts change as they run"),
    "dataprotection.backup": Policy(DIFF, "the record of backups"),
    "dataprotection.backupsettings": Policy(WHOLE, _CONFIG),
    "dataprotection.backuprecipient": Policy(WHOLE, _CONFIG),
    "dataprotection.backupdigest": Policy(SKIP, "the backup machinery's own state, rebuilt by the next full backup"),
    # The test suite's sample app
    "sample.label": Policy(WHOLE, _CONFIG),
}
