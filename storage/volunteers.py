"""Volunteers: who can help, where, when, and how much they already carry."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Volunteer


async def find(*, session: AsyncSession, user_id: int | None) -> Volunteer | None:
    """The volunteer record of a user, if they are one."""
    if user_id is None:
        return None
    return (
        await session.execute(select(Volunteer).where(col(Volunteer.user_id) == user_id))
    ).scalar_one_or_none()
