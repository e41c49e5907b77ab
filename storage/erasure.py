"""Erasing a person's data on request, keeping only anonymous counts."""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage import requests
from storage.models import (
    Binding,
    HelpRequest,
    OutboxMessage,
    ProcessedMessage,
    RequestEvent,
    RosterEntry,
    User,
    Volunteer,
)

ERASED = "已注销"


async def erase_user(*, session: AsyncSession, user: User) -> None:
    """Remove everything that identifies `user`: profile, request texts and places, volunteer
    record, queued messages, message keys and their openid in histories."""
    assert user.id is not None
    openid = user.openid
    theirs = await session.scalars(
        select(col(HelpRequest.id)).where(col(HelpRequest.resident_id) == user.id)
    )
    await requests.purge_personal(
        session=session, request_ids=[n for n in theirs if n is not None], place_too=True
    )
    await session.execute(
        update(Volunteer)
        .where(col(Volunteer.user_id) == user.id)
        .values(name=ERASED, phone=None, building=None, active=False, paused=True)
    )
    # The roster's copy of them (listed by phone, then bound) and their claims go too.
    listed = (
        select(col(RosterEntry.id))
        .join(Volunteer, col(Volunteer.id) == RosterEntry.volunteer_id)
        .where(col(Volunteer.user_id) == user.id)
    )
    entry_ids = list(await session.scalars(listed))
    await session.execute(
        delete(Binding).where(
            or_(col(Binding.user_id) == user.id, col(Binding.entry_id).in_(entry_ids))
        )
    )
    await session.execute(delete(RosterEntry).where(col(RosterEntry.id).in_(entry_ids)))
    await session.execute(delete(OutboxMessage).where(col(OutboxMessage.openid) == openid))
    await session.execute(
        delete(ProcessedMessage).where(col(ProcessedMessage.key).startswith(f"{openid}:"))
    )
    # Their words in other people's requests (messages relayed as a volunteer) go too.
    await session.execute(
        update(RequestEvent)
        .where(
            col(RequestEvent.actor) == openid, col(RequestEvent.kind).in_(requests.PERSONAL_NOTES)
        )
        .values(note=None)
    )
    await session.execute(
        update(RequestEvent).where(col(RequestEvent.actor) == openid).values(actor=ERASED)
    )
    user.openid = f"erased:{user.id}"
    user.name = user.phone = user.building = user.unit = user.room = None
    user.compound_id = None
    user.subscribed = False
    user.last_interaction_at = None
    user.dialog_flow = user.dialog_state = user.dialog_data = None
    user.dialog_expires_at = None
    session.add(user)
