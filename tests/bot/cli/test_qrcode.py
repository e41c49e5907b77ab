"""`jinlin qrcode`: WeChat's permanent code for a compound, drawn as a PNG a phone can read."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import zxingcpp
from PIL import Image

from bot.simulator.standin import STANDIN, create_standin
from tests.servers import serving

REPO = Path(__file__).resolve().parents[3]
APPID, SECRET = "wx00000000000000aa", "qr-secret"


async def jinlin_cli(*args: str) -> tuple[int, str, str]:
    # A process of its own, as an operator runs it; the stand-in answers from this test's loop.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli.main",
        *args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


def decoded(png: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


async def test_a_compound_gets_a_scannable_permanent_code(tmp_path: Path) -> None:
    standin_app = create_standin(APPID, SECRET, real_time=True)
    standin = standin_app[STANDIN]
    async with serving(standin_app) as api_url:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[wechat]\nappid = "{APPID}"\nsecret = "{SECRET}"\ntoken = "jinlin-demo-token"\n'
            f'api_base_url = "{api_url}"\n[database]\nurl = "sqlite:///{tmp_path}/j.db"\n'
            '[org]\ncompounds = ["阳光花园", "幸福里"]\n'
        )
        out = tmp_path / "gate.png"
        code, stdout, stderr = await jinlin_cli(
            "qrcode", "--config", str(config), "--compound", "幸福里", "--out", str(out)
        )
        assert code == 0, stderr
        assert stdout.startswith(f"wrote {out}: the QR code of 幸福里 (默认社区)")
        [body] = standin.bodies["/cgi-bin/qrcode/create"]
        assert body == {
            "action_name": "QR_LIMIT_STR_SCENE",
            "action_info": {"scene": {"scene_str": "compound:2"}},
        }
        [url] = decoded(out.read_bytes())
        assert standin.qrcodes[url] == "compound:2"

        code, _, stderr = await jinlin_cli("qrcode", "--config", str(config), "--compound", "火星")
        assert code == 2
        assert stderr.strip() == 'jinlin: no compound called "火星" (known: 幸福里、阳光花园)'
        assert len(standin.bodies["/cgi-bin/qrcode/create"]) == 1
