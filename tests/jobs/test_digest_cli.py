"""`supportbot digest [--date D] [--post] [--json]` on the seeded history."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from digest_scenario import REPO_ROOT
from typer.testing import CliRunner

from supportbot.cli import app
from supportbot.errors import ConfigurationError
from supportbot.fakes.slack import FakeSlack

pytestmark = pytest.mark.usefixtures("isolated_env")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def data_dir(scenario_data_dir: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(scenario_data_dir / "supportbot.db", data / "supportbot.db")
    return data


def invoke(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(
        app,
        ["digest", *args, "--data-dir", str(data_dir), "--policies", str(REPO_ROOT / "policies")],
        env={
            "SUPPORTBOT_TIMEZONE": "America/New_York",
            "SUPPORTBOT_EMBEDDER": "hashing",  # the figures do not depend on the embedder
            **(env or {}),
        },
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_prints_the_figures_and_writes_the_chart(data_dir: Path) -> None:
    document = json.loads(invoke(data_dir, "--date", "2026-03-10", "--json"))

    assert document["date"] == "2026-03-10"
    assert document["timezone"] == "America/New_York"
    assert document["day"]["questions"] == 13
    assert document["day"]["escalated"] == 8
    assert document["day"]["outcomes"]["open_model"] == 3
    assert document["day"]["reviews"]["median_minutes"] == 35.0
    assert [d["questions"] for d in document["previous"]] == [4, 0, 2, 0, 0, 2, 1]
    assert len(document["chart_days"]) == 14
    chart = Path(document["chart"])
    assert chart == data_dir / "charts" / "escalations-2026-03-10.png"
    assert chart.read_bytes().startswith(PNG_MAGIC)
    assert document["posted"] is None


def test_printed_digest_says_where_the_chart_is(data_dir: Path) -> None:
    out = invoke(data_dir, "--date", "2026-03-10")

    assert "Escalation digest · Tue 10 Mar 2026" in out
    assert "Answered by the open model" in out
    assert f"Chart written to {data_dir / 'charts' / 'escalations-2026-03-10.png'}" in out
    quiet = invoke(data_dir, "--date", "2026-03-07")
    assert "No questions were asked on Sat 7 Mar 2026." in quiet


def test_post_sends_it_to_the_digest_channel(data_dir: Path, fake_slack: FakeSlack) -> None:
    out = invoke(
        data_dir,
        "--date",
        "2026-03-10",
        "--post",
        env={
            "SLACK_BOT_TOKEN": fake_slack.bot_token,
            "SUPPORTBOT_SLACK_API_URL": fake_slack.api_url,
            "SUPPORTBOT_DIGEST_CHANNEL": "#support-digest",
        },
    )

    fake_slack.assert_no_rejections()
    [message] = fake_slack.messages_in("C0DIGEST")
    assert message.text.startswith("Escalation digest for Tue 10 Mar 2026: 13 questions")
    [chart] = fake_slack.files()
    assert chart.thread_ts == message.ts
    assert chart.content == (data_dir / "charts" / "escalations-2026-03-10.png").read_bytes()
    assert f"Posted to #support-digest (C0DIGEST, ts {message.ts})" in out


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"SUPPORTBOT_DIGEST_CHANNEL": "C0DIGEST"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SUPPORTBOT_DIGEST_CHANNEL"),
    ],
)
def test_post_without_slack_settings_names_the_missing_one(
    data_dir: Path, env: dict[str, str], setting: str
) -> None:
    result = CliRunner().invoke(app, ["digest", "--post", "--data-dir", str(data_dir)], env=env)
    assert isinstance(result.exception, ConfigurationError)
    assert result.exception.setting == setting
    assert not (data_dir / "charts").exists()  # failed before doing any work


def test_a_bad_date_is_a_usage_error(data_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["digest", "--date", "10/03/2026", "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 2
    assert "is not a date like 2026-03-10" in result.output
