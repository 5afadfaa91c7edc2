"""The digest's chart: the daily escalation rate by route over the last 14 days, as a PNG.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global
state, so it is safe in the scheduler's threads). The same data gives the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from supportbot.jobs.digest_data import ChartDay

#: Figure size in inches and resolution: 1000 x 480 pixels.
FIGURE_SIZE = (10.0, 4.8)
DPI = 100
CHART_DAYS = 14

_SERIES = (
    # (label, ChartDay field, colour, line style)
    ("frontier model", "frontier", "#e08a00", "-"),
    ("people", "human", "#c0392b", "-"),
    ("declined (off-topic)", "declined", "#7f8c8d", "--"),
)


def chart_filename(day_label: str) -> str:
    return f"escalations-{day_label}.png"


def render_chart(days: Sequence[ChartDay], path: Path, *, title: str, timezone: str) -> Path:
    """Draw ``days`` (oldest first) into ``path`` (PNG, replaced atomically); returns it."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    figure = Figure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    rates_axis = figure.add_subplot()
    volume_axis = rates_axis.twinx()
    positions = np.arange(len(days))
    questions = [d.questions for d in days]

    volume_axis.bar(
        positions, questions, width=0.6, color="#dfe6ee", label="questions asked", zorder=0
    )
    volume_axis.set_ylabel("questions asked")
    volume_axis.set_ylim(0, max(max(questions, default=0), 1) * 1.25)
    volume_axis.yaxis.set_major_locator(MaxNLocator(integer=True))

    highest = 0.0
    for label, name, colour, style in _SERIES:
        values = []
        for day in days:
            rate = day.rate(getattr(day, name))
            values.append(np.nan if rate is None else rate * 100)
            highest = max(highest, 0.0 if rate is None else rate * 100)
        rates_axis.plot(
            positions,
            values,
            label=label,
            color=colour,
            linestyle=style,
            marker="o",
            markersize=4,
            linewidth=2,
        )
    # The rate lines over the volume bars.
    rates_axis.set_zorder(volume_axis.get_zorder() + 1)
    rates_axis.patch.set_visible(False)
    rates_axis.set_ylim(0, min(105.0, max(10.0, highest * 1.15)))  # 100% stays visible
    rates_axis.yaxis.set_major_formatter(PercentFormatter(100, decimals=0))
    rates_axis.set_ylabel("share of the day's questions")
    rates_axis.set_xlabel(f"day ({timezone})")
    rates_axis.set_xticks(positions, [f"{d.date:%a}\n{d.date:%d %b}" for d in days])
    rates_axis.set_xlim(-0.6, len(days) - 0.4)
    rates_axis.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    rates_axis.set_title(title, loc="left", fontsize=12)

    handles, labels = rates_axis.get_legend_handles_labels()
    bar_handles, bar_labels = volume_axis.get_legend_handles_labels()
    figure.legend(
        handles + bar_handles,
        labels + bar_labels,
        loc="outside lower center",
        ncols=4,
        fontsize=9,
        frameon=False,
    )
    if not any(questions):
        rates_axis.text(
            0.5,
            0.5,
            f"No questions in these {len(days)} days",
            transform=rates_axis.transAxes,
            ha="center",
            va="center",
            fontsize=12,
            color="#555555",
        )

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".chart-", suffix=".png")
    try:
        with os.fdopen(handle, "wb") as out:
            figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
