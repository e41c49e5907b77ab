"""The tables: organisation, people, requests with their history, and delivery bookkeeping."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

# WeChat's openids are 28 characters; WeCom's user ids and test accounts run longer. Longer
# ones are refused at the webhook, never cut short (two users must never become one).
OPENID_LENGTH = 128
# An openid and a message id or event; past this the event part is digested (bot/core/inbound.py).
DEDUP_KEY_LENGTH = 256


def _at(*, nullable: bool = True, index: bool = False) -> datetime | None:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _created() -> datetime:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# --- organisation: street → community → compound → building -------------------------


class Street(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)


class Community(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("street_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    street_id: int = Field(foreign_key="street.id", index=True)
    name: str = Field(max_length=64)


class Compound(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("community_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    name: str = Field(max_length=64, index=True)


class CompoundAlias(SQLModel, table=True):
    """Another name people use for a compound (阳光小区, 阳光 for 阳光花园); one compound each."""

    __tablename__ = "compound_alias"
    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    name: str = Field(max_length=64, unique=True)


class PlaceVersion(SQLModel, table=True):
    """One row, bumped by database triggers whenever a compound or an alias changes, however it
    changes: every process reads it with each batch of messages to know its parser is behind."""

    __tablename__ = "place_version"
    id: int = Field(default=1, primary_key=True)
    version: int = 0


class Building(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("compound_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    name: str = Field(max_length=16)


# --- people ---------------------------------------------------------------------------


class User(SQLModel, table=True):
    """Anyone who follows the account (every volunteer and admin is also a user)."""

    id: int | None = Field(default=None, primary_key=True)
    openid: str = Field(unique=True, max_length=OPENID_LENGTH)
    name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=20)
    compound_id: int | None = Field(default=None, foreign_key="compound.id", index=True)
    building: str | None = Field(default=None, max_length=16)
    unit: str | None = Field(default=None, max_length=16)
    room: str | None = Field(default=None, max_length=16)
    subscribed: bool = True
    broadcast_opt_out: bool = False
    created_at: datetime = _created()
    # The 48-hour customer-service window and its quota (shared/spec/wechat.md).
    last_interaction_at: datetime | None = _at()
    last_interaction_kind: str | None = Field(default=None, max_length=16)
    cs_sent_since_interaction: int = 0
    # The last template message sent to them: one a minute at most (bot/wechat/outbound.py).
    template_sent_at: datetime | None = _at()
    # A pending question of a multi-turn flow; expires so a stale question never traps anyone.
    dialog_flow: str | None = Field(default=None, max_length=32)
    dialog_state: str | None = Field(default=None, max_length=32)
    dialog_data: str | None = None
    dialog_expires_at: datetime | None = _at()


class Volunteer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", unique=True)
    name: str = Field(max_length=64)
    phone: str | None = Field(default=None, max_length=20)
    skills: str = Field(default="", max_length=256)  # category names joined by "|"
    compound_id: int | None = Field(default=None, foreign_key="compound.id", index=True)
    building: str | None = Field(default=None, max_length=16)
    availability: str = Field(default="anytime", max_length=128)  # slot names joined by "|"
    task_limit: int = 2
    active: bool = True
    paused: bool = False
    minutes_credited: int = 0
    tasks_completed: int = 0
    rating_sum: int = 0
    rating_count: int = 0
    last_tasked_at: datetime | None = _at()
    created_at: datetime = _created()


class RosterEntry(SQLModel, table=True):
    """A volunteer on a community's list without a WeChat account yet (imported without an
    openid). No offer reaches an entry; it becomes a Volunteer when a person who signed up in
    chat with the same phone is approved by a worker, and then stays as the link."""

    __tablename__ = "roster_entry"
    __table_args__ = (
        # One unbound entry per phone, however imports race.
        Index(
            "ux_roster_entry_unbound_phone",
            "phone",
            unique=True,
            sqlite_where=text("volunteer_id IS NULL"),
            postgresql_where=text("volunteer_id IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    phone: str = Field(max_length=20)
    skills: str = Field(default="", max_length=256)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    building: str | None = Field(default=None, max_length=16)
    availability: str = Field(default="anytime", max_length=128)
    created_at: datetime = _created()
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id", index=True)
    bound_at: datetime | None = _at()


class BindingStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the person asked again, or the entry was bound another way


class Binding(SQLModel, table=True):
    """A person's claim, by phone, to be a listed volunteer; its id is the #N a worker approves."""

    __tablename__ = "volunteer_binding"
    __table_args__ = (Index("ix_volunteer_binding_status", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="roster_entry.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    status: str = Field(default=BindingStatus.PENDING, max_length=16)
    created_at: datetime = _created()
    decided_at: datetime | None = _at()
    decided_by: str | None = Field(default=None, max_length=160)


# --- requests and their history ----------------------------------------------------------


class Status(StrEnum):
    OPEN = "open"
    OFFERED = "offered"
    ESCALATED = "escalated"
    ACCEPTED = "accepted"
    DONE = "done"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class HelpRequest(SQLModel, table=True):
    """A resident's request; its id is the short number shown as #N."""

    __tablename__ = "help_request"
    __table_args__ = (
        Index("ix_help_request_status", "status"),
        # A volunteer's load, read for every routing (storage/volunteers.py: candidates).
        Index("ix_help_request_volunteer_status", "volunteer_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="user.id", index=True)
    beneficiary: str | None = Field(default=None, max_length=64)
    category: str = Field(max_length=16)
    urgency: str = Field(max_length=16)
    text: str | None = None
    when_at: datetime | None = _at()
    when_has_time: bool = False
    compound_id: int | None = Field(default=None, foreign_key="compound.id", index=True)
    building: str | None = Field(default=None, max_length=16)
    unit: str | None = Field(default=None, max_length=16)
    room: str | None = Field(default=None, max_length=16)
    phone: str | None = Field(default=None, max_length=20)
    status: str = Field(default=Status.OPEN, max_length=16)
    tier: int = 0
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id", index=True)
    score: int | None = None
    credited_minutes: int | None = None  # the volunteer hours this task earned, when done
    created_at: datetime = _created()
    offered_at: datetime | None = _at()
    accepted_at: datetime | None = _at()
    done_at: datetime | None = _at()
    closed_at: datetime | None = _at()
    purged_at: datetime | None = _at()
    # Follow-ups: the state and these times decide what is due, so none can be lost or fire
    # for a request that moved on; each is claimed by setting its mark in a guarded UPDATE.
    reminded_at: datetime | None = _at()
    checked_in_at: datetime | None = _at()
    asked_score_at: datetime | None = _at()


class RequestEvent(SQLModel, table=True):
    """One transition or note in a request's history: who, when, why."""

    __tablename__ = "request_event"
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="help_request.id", index=True)
    at: datetime = _created()
    actor: str = Field(max_length=160)  # an openid, "system" or "admin:<name>"
    kind: str = Field(max_length=32)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    note: str | None = None


class Offer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("request_id", "volunteer_id"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="help_request.id", index=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    tier: int = 0
    sent_at: datetime = _created()
    outcome: str | None = Field(default=None, max_length=16)  # accepted/taken/declined/closed


class ScheduledRun(SQLModel, table=True):
    """A periodic job's run, claimed once by whichever process gets there first."""

    __tablename__ = "scheduled_run"
    key: str = Field(primary_key=True, max_length=64)  # e.g. "digest:2026-11-23"
    fired_at: datetime = _created()


# --- WeChat bookkeeping -------------------------------------------------------------------


class ProcessedMessage(SQLModel, table=True):
    """One row per inbound message or event: the key that makes a re-delivery a no-op."""

    __tablename__ = "processed_message"
    key: str = Field(primary_key=True, max_length=DEDUP_KEY_LENGTH)
    created_at: datetime = _created()
    reply: str | None = None
    delivery: str | None = Field(default=None, max_length=16)  # passive/outbox once answered


class OutboxMessage(SQLModel, table=True):
    """A message to a user that must reach them, sent after the reply and retried until it does."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # What still waits for someone (storage/reach.py), read for every routing, and whose
        # reader wrote since it was tried (storage/delivery.py), read for every claim.
        Index("ix_outbox_openid_status", "openid", "status", "attempted_at"),
        Index("ix_outbox_expiry", "status", "expires_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    openid: str = Field(max_length=OPENID_LENGTH, index=True)
    text: str
    status: str = Field(
        default="pending", max_length=16
    )  # pending/sending/sent/failed/expired/dropped
    attempts: int = 0
    next_attempt_at: datetime = _created()
    attempted_at: datetime | None = _at()  # a later interaction of the user makes it due again
    expires_at: datetime | None = _at()  # past this it is news nobody needs (an old offer)
    lease_until: datetime | None = _at()
    last_error: str | None = Field(default=None, max_length=256)
    via: str | None = Field(default=None, max_length=16)  # custom/template once sent
    created_at: datetime = _created()
    sent_at: datetime | None = _at()
    # What the message says stays true only while this holds (storage/relevance.py): an offer
    # of a request already taken is dropped at send time, never delivered.
    request_id: int | None = Field(default=None, index=True)
    purpose: str | None = Field(default=None, max_length=16)


class AccessToken(SQLModel, table=True):
    """WeChat's access token, shared by every server process; refreshed under a lease."""

    __tablename__ = "access_token"
    appid: str = Field(primary_key=True, max_length=64)
    token: str | None = Field(default=None, max_length=1024)
    expires_at: datetime | None = _at()
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _at()


# --- broadcasts (群发) ----------------------------------------------------------------------


class BroadcastState(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its time; the audience is not yet fixed
    SENDING = "sending"  # recipients fixed (one delivery row each), batches going out
    DONE = "done"  # no delivery left pending
    CANCELLED = "cancelled"  # withdrawn before it was sent


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"  # its batch was answered 0 or 45065 (that clientmsgid already went)
    FAILED = "failed"
    SKIPPED_QUOTA = "skipped_quota"  # already had WeChat's 4 mass messages this month
    SKIPPED_WINDOW = "skipped_window"  # mass send could not serve, outside the 48-hour window
    SKIPPED_OPT_OUT = "skipped_opt_out"  # opted out (退订) or unfollowed before their batch went


class Broadcast(SQLModel, table=True):
    """A notice to an audience, now or at a set time; its number is shown as 通知 N."""

    __table_args__ = (Index("ix_broadcast_due", "state", "send_at"),)
    id: int | None = Field(default=None, primary_key=True)
    text: str
    created_by: str = Field(max_length=OPENID_LENGTH)  # an openid, "cli" or "admin:<name>"
    created_at: datetime = _created()
    send_at: datetime = _created()
    state: str = Field(default=BroadcastState.SCHEDULED, max_length=16)
    # The audience: each set field narrows it. The scope it was created under applies again
    # when the recipients are fixed, so a scheduled notice never leaves its community.
    label: str = Field(max_length=128)  # the audience in words, for lists
    community_id: int | None = Field(default=None, foreign_key="community.id", index=True)
    street_id: int | None = Field(default=None, foreign_key="street.id", index=True)
    compound_id: int | None = Field(default=None, foreign_key="compound.id")
    building: str | None = Field(default=None, max_length=16)
    role: str = Field(default="all", max_length=16)  # all/resident/volunteer
    tag_id: int | None = None  # WeChat's tag id (a tag deleted there leaves its notices be)
    scope_community_id: int | None = Field(default=None, foreign_key="community.id")
    scope_street_id: int | None = Field(default=None, foreign_key="street.id")
    home_community_id: int | None = Field(default=None, foreign_key="community.id")
    # Delivery: one batch in flight at a time, each call's clientmsgid is
    # "jl<id>-<nonce>-<batch>", so a batch sent again after a crash reaches nobody twice. A
    # batch is the pending rows in an id range: rows after `in_flight_after` up to `batched_to`.
    nonce: str = Field(max_length=16)
    plan: str | None = Field(default=None, max_length=16)  # tag/openids/custom once fixed
    recipients: int | None = None  # counted at creation, fixed when sending starts
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    batched_to: int = 0  # the last delivery row id already in a batch
    next_batch: int = 1
    in_flight: int | None = None
    in_flight_after: int | None = None
    in_flight_since: datetime | None = _at()
    attempts: int = 0
    next_attempt_at: datetime | None = _at()
    last_error: str | None = Field(default=None, max_length=256)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _at()
    finished_at: datetime | None = _at()


class BroadcastDelivery(SQLModel, table=True):
    """One recipient of one notice: its row decides that it gets the notice at most once."""

    __tablename__ = "broadcast_delivery"
    # Batches are id ranges and progress is counted on the notice, so no index but these:
    # each row is written twice (inserted, settled) and touches as few index pages as can be.
    __table_args__ = (UniqueConstraint("broadcast_id", "openid"),)
    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id")
    openid: str = Field(max_length=OPENID_LENGTH)
    state: str = Field(default=DeliveryState.PENDING, max_length=16)
    batch: int | None = None  # set when settled
    error: str | None = Field(default=None, max_length=64)
    sent_at: datetime | None = _at()


class MassQuota(SQLModel, table=True):
    """Mass messages a user got in a month: WeChat lets a service account send each user 4."""

    __tablename__ = "mass_quota"
    openid: str = Field(primary_key=True, max_length=OPENID_LENGTH)
    month: str = Field(primary_key=True, max_length=7)  # "2026-11", local time
    received: int = 0


class MassCalls(SQLModel, table=True):
    """Mass-send calls of the account in a day (100 a day for a service account, 1 for a
    subscription account)."""

    __tablename__ = "mass_calls"
    day: str = Field(primary_key=True, max_length=10)  # "2026-11-23", local time
    calls: int = 0


class Tag(SQLModel, table=True):
    """A user tag of the account, mirrored from WeChat (workers tag followers there)."""

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})  # WeChat's
    name: str = Field(max_length=30, unique=True)
    synced_at: datetime | None = _at()


class TagMember(SQLModel, table=True):
    __tablename__ = "tag_member"
    tag_id: int = Field(foreign_key="tag.id", primary_key=True)
    openid: str = Field(max_length=OPENID_LENGTH, primary_key=True, index=True)


# --- community workers' console ------------------------------------------------------------


class AdminAccount(SQLModel, table=True):
    """A community worker's console login, scoped to a community or (community_id None) a
    whole street; optionally linked to their WeChat openid so chat commands share the scope."""

    __tablename__ = "admin_account"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    password_hash: str = Field(max_length=256)
    street_id: int = Field(foreign_key="street.id", index=True)
    community_id: int | None = Field(default=None, foreign_key="community.id", index=True)
    openid: str | None = Field(default=None, unique=True, max_length=OPENID_LENGTH)
    # A one-time code the worker sends in chat (绑定工作台 12345678) to link their openid.
    link_code_hash: str | None = Field(default=None, max_length=64)
    link_code_expires_at: datetime | None = _at()
    created_at: datetime = _created()
    last_login_at: datetime | None = _at()


class ConsoleSession(SQLModel, table=True):
    """A logged-in browser: kept in the database so every server process knows it."""

    __tablename__ = "console_session"
    token_hash: str = Field(primary_key=True, max_length=64)  # sha256 of the cookie's token
    account_id: int = Field(foreign_key="admin_account.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _created()
    seen_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class LoginAttempt(SQLModel, table=True):
    """A failed login (or chat link code) kept to limit guessing across every process."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160)  # "user:<name>", "ip:<address>" or "link:<openid>"
    at: datetime = _created()
