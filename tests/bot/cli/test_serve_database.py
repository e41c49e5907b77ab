"""`jinlin serve` with a database it cannot use stops with one line, before claiming to serve."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def run_serve(tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(
        '[wechat]\ntoken = "jinlin-demo-token"\n[server]\nport = 1\n'
        f'[admin]\nopenids = ["oAdmin"]\n[database]\nurl = "{url}"\n'
    )
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("sqlite:///{tmp}/no/such/folder/jinlin.db", "/no/such/folder for the SQLite file"),
        (
            "postgresql://postgres@127.0.0.1:5432/jinlin_no_such_database",
            'database "jinlin_no_such_database" does not exist',
        ),
        ("postgresql://postgres@127.0.0.1:1/jinlin", "cannot connect to"),
    ],
)
def test_an_unusable_database_stops_serve_with_one_line_naming_the_key(
    tmp_path: Path, url: str, reason: str
) -> None:
    done = run_serve(tmp_path, url.format(tmp=tmp_path))
    assert done.returncode == 2
    assert "serving on" not in done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()
    assert len(last) == 1, done.stderr
    assert last[0].startswith("jinlin: database.url: ") and reason in last[0]
