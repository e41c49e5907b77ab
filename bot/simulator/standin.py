"""A local stand-in for WeChat's API server (documented endpoints, rules, error codes).

Its clock stands still unless moved (`advance`), or follows real time with `real_time=True`.
Besides WeChat's own paths under /cgi-bin/ it answers one control path for developers:
`POST /standin/faults` {"path", "errcode", "times"} makes the next calls to `path` fail with
`errcode` (GET lists what is pending). `snapshot()`/`restore()` carry its state across a
restart (the simulator keeps it in a file).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from wechatpy.constants import WeChatErrorCode

from storage.types import utcnow

Answer = dict[str, Any]

WINDOW = timedelta(hours=48)
AFTER_MESSAGE_QUOTA = 5  # customer messages per 48 h after a user's message
AFTER_EVENT_QUOTA, AFTER_EVENT_SPAN = 3, timedelta(minutes=1)  # after a click/follow/scan
OVERLAP = timedelta(minutes=5)  # how long a replaced token keeps working
CLIENTMSGID_SPAN = timedelta(hours=24)
TAG_BATCH = 50
TAG_PAGE = 10_000  # openids per page of /cgi-bin/user/tag/get
MASS_PER_MINUTE = 60
MASS_PER_USER_MONTH = 4  # a service account's mass messages a user receives in a month
BEIJING = timedelta(hours=8)  # WeChat's days and months
MASS_PATHS = ("/cgi-bin/message/mass/sendall", "/cgi-bin/message/mass/send")
INTERACTIONS = ("message", "click", "follow")

# wechatpy names most codes; these few it does not.
ERRMSG = {e.value: e.name.lower().replace("_", " ") for e in WeChatErrorCode} | {
    40130: "invalid openid list size, at least two openid",
    45157: "invalid tag name",
    45158: "tag name too long",
    45159: "invalid tag id",
    40052: "invalid action name",
}
QR_PERMANENT = ("QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE")
QR_TEMPORARY = ("QR_SCENE", "QR_STR_SCENE")
QR_MAX_EXPIRY, QR_DEFAULT_EXPIRY = 2_592_000, 30  # seconds: 30 days at most
QR_MAX_SCENE_ID, QR_MAX_SCENE_STR = 100_000, 64


def error(errcode: int) -> Answer:
    """WeChat's error answer for `errcode`."""
    return {"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")}


@dataclass(frozen=True)
class Delivered:
    """One message as a user would have received it."""

    kind: str  # "custom", "template" or "mass"
    openid: str
    text: str | None
    data: dict[str, Any] | None
    at: datetime


@dataclass(frozen=True)
class Window:
    """A user's last interaction as WeChat counts it, and the customer messages sent since."""

    kind: str  # message, click or follow
    at: datetime
    sent: int


@dataclass
class _Token:
    valid_until: datetime
    superseded: bool = False  # after its overlap it reads as invalid (40001), not expired


@dataclass
class _Tag:
    name: str
    openids: set[str] = field(default_factory=set)


class StandinState:
    """Everything the stand-in knows; tests and the simulator steer and inspect it here."""

    def __init__(
        self, appid: str, secret: str, *, expires_in: int = 7200, real_time: bool = False
    ) -> None:
        self.appid, self.secret = appid, secret
        self.expires_in = expires_in  # seconds a new token lives; settable at any time
        self.real_time = real_time
        self.calls: Counter[str] = Counter()  # requests per path, faults included
        self.call_times: defaultdict[str, list[datetime]] = defaultdict(list)
        # The account's mass-send quotas: a service account's by default; a subscription
        # account has 1 a day and no monthly limit per user (None).
        self.mass_daily_limit = 100
        self.mass_month_limit: int | None = MASS_PER_USER_MONTH
        self.bodies: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self.templates: set[str] = set()
        self.tags: dict[int, _Tag] = {}
        self.menu: list[dict[str, Any]] | None = None
        self._start, self._offset = utcnow(), timedelta(0)
        self._ids = itertools.count(1000)
        self._tokens: dict[str, _Token] = {}
        self._latest: dict[str, str] = {}  # "plain" / "stable" → the newest token of each
        self._following: dict[str, bool] = {}
        self._roster_known = False
        self._last: dict[str, tuple[str, datetime]] = {}  # openid → interaction kind, when
        self._sent_since: Counter[str] = Counter()
        self._clientmsgids: dict[str, tuple[datetime, int]] = {}
        self._faults: defaultdict[str, deque[tuple[int, int]]] = defaultdict(deque)
        self._delivered: list[Delivered] = []
        self._mass_jobs: list[datetime] = []  # accepted mass sends, for the quotas
        self._mass_received: Counter[tuple[str, str]] = Counter()  # (openid, month)
        self._hold: tuple[str, int] | None = None
        self.held = asyncio.Event()  # set while an answer is held back (see hold_answer)
        self._released = asyncio.Event()
        self.on_deliver: list[Callable[[Delivered], None]] = []  # e.g. the simulator's chats
        self.qrcodes: dict[str, str | int] = {}  # url → the scene it carries

    # --- steering ----------------------------------------------------------------------

    def now(self) -> datetime:
        """The stand-in's clock (tz-aware UTC)."""
        return (utcnow() if self.real_time else self._start) + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward, expiring tokens, windows and clientmsgids."""
        self._offset += timedelta(seconds=seconds)

    def interact(self, openid: str, kind: str = "message") -> None:
        """Record a user's message, menu click or follow: it opens the 48-hour window."""
        if kind not in INTERACTIONS:
            raise ValueError(f"kind must be one of {INTERACTIONS}, not {kind!r}")
        self._last[openid] = (kind, self.now())
        self._sent_since[openid] = 0

    def follow(self, openid: str) -> None:
        """The user follows; from the first call on, only known followers count as following."""
        self._roster_known = True
        self._following[openid] = True
        self.interact(openid, "follow")

    def window_of(self, openid: str) -> Window | None:
        """The user's last interaction and the customer messages sent since (None: never)."""
        last = self._last.get(openid)
        return Window(last[0], last[1], self._sent_since[openid]) if last else None

    def set_window(self, openid: str, window: Window) -> None:
        """Put the user's last interaction somewhere else in time (or mark its quota used)."""
        if window.kind not in INTERACTIONS:
            raise ValueError(f"kind must be one of {INTERACTIONS}, not {window.kind!r}")
        self._last[openid] = (window.kind, window.at)
        self._sent_since[openid] = window.sent

    def unfollow(self, openid: str) -> None:
        """The user stops following the account."""
        self._following[openid] = False

    def is_following(self, openid: str) -> bool:
        """Whether WeChat would treat `openid` as a follower (anyone, until the roster is known)."""
        return self._following.get(openid, not self._roster_known)

    def add_template(self, template_id: str) -> None:
        """Make a template id known, as adding it in the admin console would."""
        self.templates.add(template_id)

    def fail_next(self, path: str, errcode: int, times: int = 1, *, http_status: int = 200) -> None:
        """Answer the next `times` calls to `path` with `errcode` (or a non-JSON HTTP error)."""
        self._faults[path].extend([(errcode, http_status)] * times)

    def hold_answer(self, path: str, call: int) -> None:
        """Do the `call`-th call to `path` but hold its answer until `release()`, as when a
        connection dies after WeChat acted (a crash of the caller at the worst moment)."""
        self._hold = (path, call)

    def release(self) -> None:
        """Let a held answer go."""
        self._released.set()

    async def hold_if_asked(self, path: str) -> None:
        """Hold this answer if `hold_answer` asked for this call."""
        if self._hold == (path, self.calls[path]):
            self._hold = None
            self.held.set()
            await self._released.wait()

    def pending_faults(self) -> list[tuple[str, int]]:
        """The injected faults still waiting for their call: (path, errcode), in order."""
        return [(path, code) for path, queue in self._faults.items() for code, _ in queue]

    def messages(self, openid: str | None = None) -> list[Delivered]:
        """What was delivered, oldest first; to one user if `openid` is given."""
        return [m for m in self._delivered if openid is None or m.openid == openid]

    @property
    def token_fetches(self) -> int:
        """How many tokens were asked for, through either endpoint."""
        return self.calls["/cgi-bin/token"] + self.calls["/cgi-bin/stable_token"]

    def take_fault(self, path: str) -> tuple[int, int] | None:
        """The injected fault for this call to `path`, if one is pending."""
        pending = self._faults.get(path)
        return pending.popleft() if pending else None

    # --- tokens ------------------------------------------------------------------------

    def check_token(self, token: str | None) -> int:
        """0 for a valid token, else WeChat's errcode (41001, 40001 or 42001)."""
        if not token:
            return 41001
        issued = self._tokens.get(token)
        if issued is None:
            return 40001
        if self.now() >= issued.valid_until:
            return 40001 if issued.superseded else 42001
        return 0

    def _issue(self, kind: str) -> Answer:
        token = f"{kind.upper()}_{secrets.token_hex(16)}"
        self._tokens[token] = _Token(self.now() + timedelta(seconds=self.expires_in))
        self._latest[kind] = token
        return {"access_token": token, "expires_in": self.expires_in}

    def _credentials(self, values: Mapping[str, Any]) -> int:
        if values.get("grant_type") != "client_credential":
            return 40002
        if values.get("appid") != self.appid:
            return 40013
        return 0 if values.get("secret") == self.secret else 40125

    def get_token(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """GET /cgi-bin/token: always a new token; the previous one works 5 more minutes."""
        if code := self._credentials(query):
            return error(code)
        old = self._tokens.get(self._latest.get("plain", ""))
        if old is not None:
            old.valid_until = min(old.valid_until, self.now() + OVERLAP)
            old.superseded = True
        return self._issue("plain")

    def stable_token(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/stable_token: the current token, renewed only in its last 5 minutes."""
        if code := self._credentials(body):
            return error(code)
        current = self._latest.get("stable", "")
        issued = self._tokens.get(current)
        if body.get("force_refresh"):
            self._tokens.pop(current, None)  # forcing invalidates the old token at once
        elif issued is not None and issued.valid_until - self.now() > OVERLAP:
            remaining = int((issued.valid_until - self.now()).total_seconds())
            return {"access_token": current, "expires_in": remaining}
        return self._issue("stable")  # a renewed old token still runs out its last minutes

    # --- messages ----------------------------------------------------------------------

    def custom_send(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/message/custom/send: the 48-hour window and its quota."""
        openid = str(body.get("touser") or "")
        if not openid:
            return error(40003)
        if body.get("msgtype") != "text" or not isinstance(body.get("text"), dict):
            return error(40008)
        if not self.is_following(openid):
            return error(43004)
        last = self._last.get(openid)
        now = self.now()
        if last is None or now - last[1] > WINDOW:
            return error(45015)
        kind, at = last
        if kind == "message":
            allowed = self._sent_since[openid] < AFTER_MESSAGE_QUOTA
        else:
            allowed = self._sent_since[openid] < AFTER_EVENT_QUOTA and now - at <= AFTER_EVENT_SPAN
        if not allowed:
            return error(45047)
        self._sent_since[openid] += 1
        self._deliver("custom", openid, text=str(body["text"].get("content", "")))
        return {"errcode": 0, "errmsg": "ok"}

    def template_send(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/message/template/send: a known template to a follower."""
        openid = str(body.get("touser") or "")
        if not openid:
            return error(40003)
        if body.get("template_id") not in self.templates:
            return error(40037)
        if not self.is_following(openid):
            return error(43004)
        self._deliver("template", openid, data=dict(body.get("data") or {}))
        return {"errcode": 0, "errmsg": "ok", "msgid": next(self._ids)}

    def mass_sendall(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/message/mass/sendall: to everyone or to one tag (filter.tag_id)."""
        rule = body.get("filter") or {}
        if rule.get("is_to_all"):
            tagged = {o for tag in self.tags.values() for o in tag.openids}
            audience = set(self._following) | set(self._last) | tagged  # _mass skips leavers
        elif rule.get("tag_id") in self.tags:
            audience = self.tags[rule["tag_id"]].openids
        else:
            return error(45159)  # includes wechatpy's old group_id, which carries no tag_id
        return self._mass(body, sorted(audience))

    def mass_send(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/message/mass/send: to an openid list of at least two."""
        touser = body.get("touser")
        if not isinstance(touser, list) or len(touser) < 2:
            return error(40130)
        return self._mass(body, [str(o) for o in touser])

    def _mass(self, body: Answer, audience: list[str]) -> Answer:
        if body.get("msgtype") != "text" or not isinstance(body.get("text"), dict):
            return error(40008)
        now, key = self.now(), str(body.get("clientmsgid") or "")
        if key and key in self._clientmsgids:
            at, msg_id = self._clientmsgids[key]
            if now - at < CLIENTMSGID_SPAN:
                return {**error(45065), "msg_id": msg_id}
        if self._mass_quota_used(now):
            return error(45009)
        self._mass_jobs.append(now)
        msg_id = next(self._ids)
        if key:
            self._clientmsgids[key] = (now, msg_id)
        month = (now + BEIJING).strftime("%Y-%m")
        for openid in audience:
            if not self.is_following(openid):
                continue
            # Over the monthly limit WeChat accepts the job and silently leaves the user out.
            if self.mass_month_limit is not None:
                if self._mass_received[openid, month] >= self.mass_month_limit:
                    continue
                self._mass_received[openid, month] += 1
            self._deliver("mass", openid, text=str(body["text"].get("content", "")))
        answer = {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id}
        return {**answer, "msg_data_id": msg_id}

    def _mass_quota_used(self, now: datetime) -> bool:
        day = (now + BEIJING).date()
        today = sum(1 for at in self._mass_jobs if (at + BEIJING).date() == day)
        last_minute = sum(1 for at in self._mass_jobs if now - at < timedelta(minutes=1))
        return today >= self.mass_daily_limit or last_minute >= MASS_PER_MINUTE

    def _deliver(
        self, kind: str, openid: str, *, text: str | None = None, data: Any = None
    ) -> None:
        delivered = Delivered(kind, openid, text, data, self.now())
        self._delivered.append(delivered)
        for listener in self.on_deliver:
            listener(delivered)

    # --- tags, menu, users -------------------------------------------------------------

    def create_tag(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/tags/create: a new tag with a unique name of at most 30 characters."""
        name = str((body.get("tag") or {}).get("name") or "")
        if len(name) > 30:
            return error(45158)
        if not name or any(tag.name == name for tag in self.tags.values()):
            return error(45157)
        tag_id = 100 + len(self.tags)  # WeChat reserves the lowest ids for its own tags
        self.tags[tag_id] = _Tag(name)
        return {"tag": {"id": tag_id, "name": name}}

    def get_tags(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """GET /cgi-bin/tags/get."""
        tags = [{"id": i, "name": t.name, "count": len(t.openids)} for i, t in self.tags.items()]
        return {"tags": tags}

    def batch_tagging(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/tags/members/batchtagging: at most 50 openids a call."""
        return self._tagging(body, set.update)

    def batch_untagging(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/tags/members/batchuntagging: at most 50 openids a call."""
        return self._tagging(body, set.difference_update)

    def _tagging(self, body: Answer, change: Callable[[set[str], set[str]], None]) -> Answer:
        openids = body.get("openid_list")
        if not isinstance(openids, list) or not 1 <= len(openids) <= TAG_BATCH:
            return error(40032)
        tag = self.tags.get(body["tagid"]) if isinstance(body.get("tagid"), int) else None
        if tag is None:
            return error(45159)
        change(tag.openids, {str(o) for o in openids})
        return {"errcode": 0, "errmsg": "ok"}

    def tag_members(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/user/tag/get: a tag's followers, 10,000 a page after next_openid."""
        tag = self.tags.get(body["tagid"]) if isinstance(body.get("tagid"), int) else None
        if tag is None:
            return error(45159)
        after = str(body.get("next_openid") or "")
        page = sorted(o for o in tag.openids if o > after)[:TAG_PAGE]
        data = {"openid": page} if page else {}
        return {"count": len(page), "data": data, "next_openid": page[-1] if page else ""}

    def create_menu(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/menu/create: 1–3 buttons, each with at most 5 sub-buttons."""
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return error(40016)
        if any(len(b.get("sub_button") or []) > 5 for b in buttons):
            return error(40017)
        self.menu = buttons
        return {"errcode": 0, "errmsg": "ok"}

    def create_qrcode(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """POST /cgi-bin/qrcode/create: a parametric QR code's ticket and the URL it encodes;
        permanent codes (QR_LIMIT_*) have no expire_seconds."""
        action = body.get("action_name")
        if action not in QR_PERMANENT + QR_TEMPORARY:
            return error(40052)
        info = body.get("action_info")
        scene = info.get("scene") if isinstance(info, dict) else None
        if not isinstance(scene, dict):
            return error(40053)
        value: str | int | None
        if action.endswith("STR_SCENE"):
            value = scene.get("scene_str")
            if not isinstance(value, str) or not 1 <= len(value) <= QR_MAX_SCENE_STR:
                return error(40053)
        else:
            value = scene.get("scene_id")
            if not isinstance(value, int) or value < 1:
                return error(40053)
            if action in QR_PERMANENT and value > QR_MAX_SCENE_ID:
                return error(40053)
        ticket = secrets.token_urlsafe(48)
        url = f"http://weixin.qq.com/q/{secrets.token_urlsafe(16)}"
        self.qrcodes[url] = value
        answer: Answer = {"ticket": ticket, "url": url}
        if action in QR_TEMPORARY:
            expiry = body.get("expire_seconds", QR_DEFAULT_EXPIRY)
            answer["expire_seconds"] = min(int(expiry), QR_MAX_EXPIRY)
        return answer

    def user_info(self, body: Answer, query: Mapping[str, str]) -> Answer:
        """GET /cgi-bin/user/info: subscribe 1 with tags for a follower, 0 otherwise."""
        openid = query.get("openid", "")
        if not openid:
            return error(40003)
        if not self.is_following(openid):
            return {"subscribe": 0, "openid": openid}
        tagids = sorted(i for i, t in self.tags.items() if openid in t.openids)
        return {"subscribe": 1, "openid": openid, "language": "zh_CN", "tagid_list": tagids}

    # --- across restarts -----------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """What WeChat would still know after a restart, as JSON data (live tokens included)."""
        now = self.now()
        return {
            "templates": sorted(self.templates),
            "tags": {
                i: {"name": t.name, "openids": sorted(t.openids)} for i, t in self.tags.items()
            },
            "menu": self.menu,
            "tokens": {
                k: [t.valid_until.isoformat(), t.superseded]
                for k, t in self._tokens.items()
                if t.valid_until > now
            },
            "latest": self._latest,
            "following": self._following,
            "roster_known": self._roster_known,
            "last": {o: [kind, at.isoformat()] for o, (kind, at) in self._last.items()},
            "sent_since": dict(self._sent_since),
            "clientmsgids": {
                k: [at.isoformat(), msg_id]
                for k, (at, msg_id) in self._clientmsgids.items()
                if now - at < CLIENTMSGID_SPAN
            },
        }

    def restore(self, saved: Mapping[str, Any]) -> None:
        """Take back an earlier snapshot(); KeyError, TypeError or ValueError if it is not one."""
        when = datetime.fromisoformat
        self.templates = {str(t) for t in saved["templates"]}
        self.tags = {int(i): _Tag(t["name"], set(t["openids"])) for i, t in saved["tags"].items()}
        self.menu = saved["menu"]
        self._tokens = {k: _Token(when(at), bool(old)) for k, (at, old) in saved["tokens"].items()}
        self._latest = {str(k): str(v) for k, v in saved["latest"].items()}
        self._following = {str(o): bool(f) for o, f in saved["following"].items()}
        self._roster_known = bool(saved["roster_known"])
        self._last = {o: (str(kind), when(at)) for o, (kind, at) in saved["last"].items()}
        self._sent_since = Counter({o: int(n) for o, n in saved["sent_since"].items()})
        self._clientmsgids = {k: (when(at), int(m)) for k, (at, m) in saved["clientmsgids"].items()}
        # New msg_ids must not repeat those a clientmsgid still answers with.
        self._ids = itertools.count(max([999, *(m for _, m in self._clientmsgids.values())]) + 1)


STANDIN = web.AppKey("standin", StandinState)

Route = Callable[[StandinState, Answer, Mapping[str, str]], Answer]
ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/cgi-bin/token"): StandinState.get_token,
    ("POST", "/cgi-bin/stable_token"): StandinState.stable_token,
    ("POST", "/cgi-bin/message/custom/send"): StandinState.custom_send,
    ("POST", "/cgi-bin/message/template/send"): StandinState.template_send,
    ("POST", "/cgi-bin/message/mass/sendall"): StandinState.mass_sendall,
    ("POST", "/cgi-bin/message/mass/send"): StandinState.mass_send,
    ("POST", "/cgi-bin/tags/create"): StandinState.create_tag,
    ("GET", "/cgi-bin/tags/get"): StandinState.get_tags,
    ("POST", "/cgi-bin/tags/members/batchtagging"): StandinState.batch_tagging,
    ("POST", "/cgi-bin/tags/members/batchuntagging"): StandinState.batch_untagging,
    ("POST", "/cgi-bin/user/tag/get"): StandinState.tag_members,
    ("POST", "/cgi-bin/menu/create"): StandinState.create_menu,
    ("GET", "/cgi-bin/user/info"): StandinState.user_info,
    ("POST", "/cgi-bin/qrcode/create"): StandinState.create_qrcode,
}
TOKEN_FREE = {"/cgi-bin/token", "/cgi-bin/stable_token"}


def create_standin(
    appid: str, secret: str, *, expires_in: int = 7200, real_time: bool = False
) -> web.Application:
    """An aiohttp app answering like api.weixin.qq.com; its state is app[STANDIN]."""
    app = web.Application()
    app[STANDIN] = StandinState(appid, secret, expires_in=expires_in, real_time=real_time)
    app.router.add_get("/standin/faults", _faults)
    app.router.add_post("/standin/faults", _faults)
    app.router.add_route("*", "/cgi-bin/{path:.*}", _handle)
    return app


FAULT_USAGE = 'expected JSON {"path": "/cgi-bin/…", "errcode": 45015, "times": 1}'


async def _faults(request: web.Request) -> web.Response:
    """Inject errors for a developer (POST), or list those pending (GET)."""
    state = request.app[STANDIN]
    if request.method == "POST":
        try:
            body = await request.json()
            path, errcode = str(body["path"]), int(body["errcode"])
            times = int(body.get("times", 1))
        except (ValueError, KeyError, TypeError, AttributeError):
            return web.json_response({"error": FAULT_USAGE}, status=400)
        if path not in {route_path for _, route_path in ROUTES}:
            return web.json_response({"error": f"no such API path: {path}"}, status=400)
        if not 1 <= times <= 100:
            return web.json_response({"error": "times must be 1 to 100"}, status=400)
        state.fail_next(path, errcode, times)
    pending = [{"path": path, "errcode": code} for path, code in state.pending_faults()]
    return _json({"pending": pending})


async def _handle(request: web.Request) -> web.Response:
    state = request.app[STANDIN]
    route = ROUTES.get((request.method, request.path))
    if route is None:
        raise web.HTTPNotFound()
    state.calls[request.path] += 1
    state.call_times[request.path].append(state.now())
    body: Answer = {}
    if request.method == "POST":
        raw = await request.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = []
        if not isinstance(parsed, dict):
            return _json(error(44002 if parsed is None else 47001))
        body = parsed
        state.bodies[request.path].append(body)
    if fault := state.take_fault(request.path):
        errcode, status = fault
        if status != 200:
            return web.Response(
                status=status, text=f"<html>{status}</html>", content_type="text/html"
            )
        return _json(error(errcode))
    if request.path not in TOKEN_FREE:
        code = state.check_token(request.query.get("access_token"))
        if code:
            return _json(error(code))
    answer = route(state, body, request.query)
    await state.hold_if_asked(request.path)
    return _json(answer)


def _json(answer: Answer) -> web.Response:
    # WeChat answers errors with HTTP 200 and a JSON body, UTF-8 unescaped.
    return web.Response(
        text=json.dumps(answer, ensure_ascii=False), content_type="application/json"
    )
