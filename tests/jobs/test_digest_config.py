"""The digest's settings: documented price defaults, overrides, a named timezone error."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportbot.errors import ConfigurationError
from supportbot.jobs.digest import DigestConfig
from supportbot.jobs.digest_data import FrontierPrices
from supportbot.settings import Settings

pytestmark = pytest.mark.usefixtures("isolated_env")


def test_prices_default_to_the_documented_list_prices_and_can_be_overridden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = DigestConfig.from_settings(Settings(), min_retrieval_score=0.3)
    assert defaults.prices == FrontierPrices(
        input_per_mtok=3.0, output_per_mtok=15.0, cache_read_per_mtok=0.3, cache_write_per_mtok=3.75
    )
    assert defaults.gap_similarity == 0.55
    assert defaults.chart_dir == Path(".supportbot") / "charts"

    monkeypatch.setenv("SUPPORTBOT_FRONTIER_PRICE_INPUT", "15")
    monkeypatch.setenv("SUPPORTBOT_FRONTIER_PRICE_OUTPUT", "75")
    monkeypatch.setenv("SUPPORTBOT_GAP_SIMILARITY", "0.7")
    monkeypatch.setenv("SUPPORTBOT_DATA_DIR", "/srv/bot")
    config = DigestConfig.from_settings(Settings(), min_retrieval_score=0.25)
    assert (config.prices.input_per_mtok, config.prices.output_per_mtok) == (15.0, 75.0)
    assert config.gap_similarity == 0.7
    assert config.min_retrieval_score == 0.25
    assert config.chart_dir == Path("/srv/bot/charts")
    # a million input and a million output tokens at these prices
    assert config.prices.cost(input_tokens=1_000_000, output_tokens=1_000_000) == 90.0


def test_an_unknown_timezone_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTBOT_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ConfigurationError) as error:
        DigestConfig.from_settings(Settings(), min_retrieval_score=0.3)
    assert error.value.setting == "SUPPORTBOT_TIMEZONE"
    assert "Mars/Olympus_Mons" in str(error.value)
