"""The outbound WeChat API client: one aiohttp session, the shared access token, retries.

Errors (all `WeChatAPIError`, so callers catch one type):
- `WeChatUnavailable`: WeChat could not be reached or did not answer in JSON (errcode -2),
  or stayed busy (-1) through every retry. Queue the work and try again later.
- `WeChatRateLimited`: 45009, a rate or daily quota; wait `retry_after` seconds at least.
- `WeChatAPIError`: any other errcode (45015 outside the window, 45047 quota, 43004 …).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import WeChatConfig
from bot.core.errors import WeChatAPIError
from storage import tokens
from storage.db import Database
from storage.errors import InvalidInput
from storage.redact import mask
from storage.types import utcnow

logger = logging.getLogger(__name__)

TOKEN_REJECTED = frozenset({40001, 40014, 42001})
SYSTEM_BUSY = -1
UNREACHABLE = -2  # ours, not WeChat's: no usable answer came back
RATE_LIMITED = 45009
TAG_BATCH = 50
MASS_MAX_OPENIDS = 10_000
QR_SCENE_MAX = 64
# A token handed back unrenewed (our margin exceeds WeChat's own 5-minute renewal window)
# is used and asked about again no sooner than this, so the margin cannot cause a storm.
RECHECK = timedelta(seconds=30)


class WeChatUnavailable(WeChatAPIError):
    """No usable answer from WeChat (network, 5xx, not JSON, or still busy): retry later."""

    def __init__(self, errcode: int, errmsg: str = "", retry_after: float = 30.0) -> None:
        super().__init__(errcode, errmsg)
        self.retry_after = retry_after


class WeChatCredentialsRefused(WeChatUnavailable):
    """WeChat refused to issue an access token (wrong AppID/AppSecret, server IP not on the
    account's whitelist, ...): nothing can be sent until an operator fixes it, and no message
    is at fault, so callers wait and retry rather than fail messages."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(errcode, errmsg, retry_after=300.0)


class WeChatRateLimited(WeChatAPIError):
    """WeChat's rate or daily quota (45009) is used up: back off, do not hammer."""

    def __init__(self, errcode: int, errmsg: str = "", retry_after: float = 60.0) -> None:
        super().__init__(errcode, errmsg)
        self.retry_after = retry_after


class WeChatClient:
    """WeChat's server API for one official account, safe to share between coroutines."""

    def __init__(
        self,
        config: WeChatConfig,
        db: Database,
        session: aiohttp.ClientSession | None = None,
        *,
        owner: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        busy_attempts: int = 3,
        retry_base_delay: float = 0.5,
        lease: timedelta = timedelta(seconds=30),
        peer_poll: float = 0.2,
        timeout: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._config = config
        self._db = db
        self._session = session
        self._own_session = session is None
        self._base = config.api_base_url.rstrip("/")
        self._owner = owner or f"pid{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._clock = clock
        self._busy_attempts = max(1, busy_attempts)
        self._retry_base_delay = retry_base_delay
        self._lease = lease
        self._peer_poll = peer_poll
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._sleep = sleep
        self._token_lock = asyncio.Lock()
        self._cached: tuple[str, datetime] | None = None  # token, when to look again

    async def start(self) -> None:
        """Open the HTTP session (done on first use otherwise)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        """Close the HTTP session if this client opened it."""
        if self._own_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> WeChatClient:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    # --- endpoints ---------------------------------------------------------------------

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (only inside the user's 48-hour window)."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._call("POST", "/cgi-bin/message/custom/send", body=body, openid=openid)

    async def send_template(
        self, openid: str, template_id: str, data: Mapping[str, Any], url: str | None = None
    ) -> int:
        """A template message; plain string values are wrapped as {"value": …}. Returns msgid."""
        fields = {k: v if isinstance(v, Mapping) else {"value": str(v)} for k, v in data.items()}
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": fields}
        if url:
            body["url"] = url
        answer = await self._call(
            "POST", "/cgi-bin/message/template/send", body=body, openid=openid
        )
        return int(answer["msgid"])

    async def create_tag(self, name: str) -> int:
        """Create a user tag and return its id."""
        answer = await self._call("POST", "/cgi-bin/tags/create", body={"tag": {"name": name}})
        return int(answer["tag"]["id"])

    async def get_tags(self) -> list[dict[str, Any]]:
        """Every tag of the account: [{"id", "name", "count"}]."""
        answer = await self._call("GET", "/cgi-bin/tags/get")
        return list(answer.get("tags", []))

    async def tag_users(self, tag_id: int, openids: Sequence[str]) -> None:
        """Put `openids` under the tag, 50 per call as WeChat requires."""
        await self._tagging("/cgi-bin/tags/members/batchtagging", tag_id, openids)

    async def untag_users(self, tag_id: int, openids: Sequence[str]) -> None:
        """Take the tag off `openids`, 50 per call."""
        await self._tagging("/cgi-bin/tags/members/batchuntagging", tag_id, openids)

    async def tag_members(self, tag_id: int) -> list[str]:
        """Every follower under the tag (WeChat pages them 10,000 at a time)."""
        members: list[str] = []
        after = ""
        while True:
            body = {"tagid": tag_id, "next_openid": after}
            answer = await self._call("POST", "/cgi-bin/user/tag/get", body=body)
            page = list((answer.get("data") or {}).get("openid") or [])
            if not page:
                return members
            members.extend(page)
            after = str(answer.get("next_openid") or page[-1])

    async def create_menu(self, buttons: list[dict[str, Any]]) -> None:
        """Replace the custom menu with `buttons` (1–3 top-level buttons)."""
        await self._call("POST", "/cgi-bin/menu/create", body={"button": buttons})

    async def mass_send_to_tag(self, tag_id: int, text: str, clientmsgid: str) -> dict[str, Any]:
        """Mass-send text to one tag; a repeated clientmsgid within 24 h is refused (45065)."""
        body = {
            # tag_id, not wechatpy's old group_id, which WeChat no longer honours.
            "filter": {"is_to_all": False, "tag_id": tag_id},
            "msgtype": "text",
            "text": {"content": text},
            "clientmsgid": clientmsgid,
        }
        return await self._call("POST", "/cgi-bin/message/mass/sendall", body=body)

    async def mass_send_to_openids(
        self, openids: Sequence[str], text: str, clientmsgid: str
    ) -> dict[str, Any]:
        """Mass-send text to 2–10,000 openids; a repeated clientmsgid is refused (45065)."""
        if not 2 <= len(openids) <= MASS_MAX_OPENIDS:
            raise InvalidInput(
                f"mass send needs 2 to {MASS_MAX_OPENIDS} openids, not {len(openids)}"
            )
        body = {
            "touser": list(openids),
            "msgtype": "text",
            "text": {"content": text},
            "clientmsgid": clientmsgid,
        }
        return await self._call("POST", "/cgi-bin/message/mass/send", body=body)

    async def create_permanent_qrcode(self, scene_str: str) -> str:
        """A permanent parametric QR code for `scene_str` (1-64 characters); the URL it encodes.

        A scan by a new follower arrives as `subscribe` with EventKey "qrscene_<scene_str>", by
        a follower as `SCAN` with "<scene_str>".
        """
        if not 1 <= len(scene_str) <= QR_SCENE_MAX:
            raise InvalidInput(f"scene_str must be 1 to {QR_SCENE_MAX} characters")
        body = {
            "action_name": "QR_LIMIT_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene_str}},
        }
        answer = await self._call("POST", "/cgi-bin/qrcode/create", body=body)
        return str(answer["url"])

    async def get_user_info(self, openid: str) -> dict[str, Any]:
        """The user's profile as WeChat reports it ("subscribe": 0 once they unfollow)."""
        params = {"openid": openid, "lang": "zh_CN"}
        return await self._call("GET", "/cgi-bin/user/info", params=params, openid=openid)

    async def _tagging(self, path: str, tag_id: int, openids: Sequence[str]) -> None:
        for start in range(0, len(openids), TAG_BATCH):
            batch = list(openids[start : start + TAG_BATCH])
            await self._call("POST", path, body={"openid_list": batch, "tagid": tag_id})

    # --- calls, retries and the token ----------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        openid: str | None = None,
    ) -> dict[str, Any]:
        token = await self._token()
        try:
            return await self._send(method, path, body, {**(params or {}), "access_token": token})
        except WeChatAPIError as exc:
            if exc.errcode not in TOKEN_REJECTED:
                # The caller decides what an error means (fall back, queue, mark inactive).
                logger.info("%s for %s: errcode %s", path, mask(openid), exc.errcode)
                raise
            logger.warning("%s: access token rejected (%s); refreshing once", path, exc.errcode)
        await self._forget(token)
        token = await self._token(rejected=token)
        try:
            return await self._send(method, path, body, {**(params or {}), "access_token": token})
        except WeChatAPIError as exc:
            # Never loop: a token refused twice running needs a person to look.
            logger.error("%s for %s failed after a token refresh: %s", path, mask(openid), exc)
            raise

    async def _send(
        self, method: str, path: str, body: dict[str, Any] | None, params: dict[str, str]
    ) -> dict[str, Any]:
        """One logical request; WeChat's "system busy" (-1) is retried with backoff."""
        attempt = 1
        answer = await self._http(method, path, body, params)
        while answer.get("errcode") == SYSTEM_BUSY and attempt < self._busy_attempts:
            await self._sleep(self._retry_base_delay * 2 ** (attempt - 1))
            attempt += 1
            answer = await self._http(method, path, body, params)
        errcode = int(answer.get("errcode") or 0)
        errmsg = str(answer.get("errmsg", ""))
        if errcode == 0:
            return answer
        if errcode == SYSTEM_BUSY:
            raise WeChatUnavailable(errcode, f"still busy after {attempt} attempts: {errmsg}")
        if errcode == RATE_LIMITED:
            raise WeChatRateLimited(errcode, errmsg)
        raise WeChatAPIError(errcode, errmsg)

    async def _http(
        self, method: str, path: str, body: dict[str, Any] | None, params: dict[str, str]
    ) -> dict[str, Any]:
        if self._session is None:
            await self.start()
        assert self._session is not None
        # Chinese stays unescaped: WeChat shows \\u escapes literally in some places.
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if data else None
        try:
            async with self._session.request(
                method,
                self._base + path,
                params=params,
                data=data,
                headers=headers,
                timeout=self._timeout,  # also when the session was handed in
            ) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The exception's text can hold the URL and with it the token: name the class only.
            logger.warning("%s unreachable: %s", path, exc.__class__.__name__)
            raise WeChatUnavailable(UNREACHABLE, f"{exc.__class__.__name__} on {path}") from None
        try:
            answer = json.loads(raw) if status == 200 else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            logger.warning("%s answered HTTP %s without JSON", path, status)
            raise WeChatUnavailable(UNREACHABLE, f"HTTP {status} without JSON on {path}")
        return answer

    async def _token(self, *, rejected: str | None = None) -> str:
        """A usable token: this process's copy, the stored one, or a fresh one."""
        cached = self._cached
        if cached and cached[0] != rejected and self._clock() < cached[1]:
            return cached[0]
        async with self._token_lock:
            return await self._token_locked(rejected)

    async def _token_locked(self, rejected: str | None) -> str:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self._lease.total_seconds()
        while True:
            now = self._clock()
            async with self._db.transaction() as session:
                token, fresh = await self._stored(session, rejected, now)
                if fresh:
                    return token
                appid, owner = self._config.appid, self._owner
                leased = await tokens.try_lease(
                    session=session, appid=appid, owner=owner, now=now, lease=self._lease
                )
                if leased:
                    # A holder saves its token and frees the lease in one commit, so a lease
                    # won just now may come with a token stored meanwhile: read again.
                    token, fresh = await self._stored(session, rejected, now)
                    if fresh:
                        await tokens.release(session=session, appid=appid, owner=owner)
                        return token
            if leased:
                return await self._refresh(rejected)
            if token:
                return token  # near its end but still good while a peer refreshes
            if loop.time() > give_up:
                raise WeChatUnavailable(
                    UNREACHABLE, "another process is still refreshing the token"
                )
            await asyncio.sleep(self._peer_poll)

    async def _stored(
        self, session: AsyncSession, rejected: str | None, now: datetime
    ) -> tuple[str, bool]:
        """The stored token ("" if none is usable) and whether it is outside the margin."""
        row = await tokens.load(session=session, appid=self._config.appid)
        if not row or not row.token or row.token == rejected or not row.expires_at:
            return "", False
        if row.expires_at <= now:
            return "", False
        refresh_at = row.expires_at - self._config.token_refresh_margin
        if refresh_at > now:
            self._cached = (row.token, refresh_at)
            return row.token, True
        return row.token, False

    async def _refresh(self, rejected: str | None) -> str:
        """Fetch with stable_token under our lease and store it for every process."""
        try:
            token, expires_in = await self._fetch(force=False)
            if token == rejected:
                # WeChat still hands out the token it refused: only a forced refresh helps.
                logger.warning("stable_token returned the rejected token; forcing a refresh")
                token, expires_in = await self._fetch(force=True)
        except BaseException:
            async with self._db.transaction() as session:
                await tokens.release(session=session, appid=self._config.appid, owner=self._owner)
            raise
        now = self._clock()
        expires_at = now + timedelta(seconds=expires_in)
        async with self._db.transaction() as session:
            await tokens.store(
                session=session,
                appid=self._config.appid,
                token=token,
                expires_at=expires_at,
                owner=self._owner,
            )
        recheck = expires_at - self._config.token_refresh_margin
        self._cached = (token, max(recheck, min(now + RECHECK, expires_at)))
        logger.info("access token refreshed; valid for %ss", expires_in)
        return token

    async def _fetch(self, *, force: bool) -> tuple[str, int]:
        body = {
            "grant_type": "client_credential",
            "appid": self._config.appid,
            "secret": self._config.secret,
            "force_refresh": force,
        }
        try:
            answer = await self._send("POST", "/cgi-bin/stable_token", body, {})
        except WeChatUnavailable:
            raise
        except WeChatAPIError as exc:
            logger.error(
                "WeChat refused an access token (errcode %s: %s): check [wechat] appid, secret "
                "and the server's IP whitelist",
                exc.errcode,
                exc.errmsg,
            )
            raise WeChatCredentialsRefused(exc.errcode, exc.errmsg) from None
        return str(answer["access_token"]), int(answer["expires_in"])

    async def _forget(self, token: str) -> None:
        if self._cached and self._cached[0] == token:
            self._cached = None
        async with self._db.transaction() as session:
            await tokens.discard(session=session, appid=self._config.appid, token=token)
