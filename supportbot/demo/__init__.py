"""``supportbot demo``: a scripted end-to-end run of the real Slack app on embedded defaults,
against the project's fake Slack (see :mod:`supportbot.demo.run`)."""

from supportbot.demo.run import DemoReport, SceneOutcome, demo_settings, run_demo

__all__ = ["DemoReport", "SceneOutcome", "demo_settings", "run_demo"]
