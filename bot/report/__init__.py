"""Reports on the question log for the project team (CLI, Telegram commands).

Importing this package stays light: matplotlib is loaded only when a chart is drawn.
"""

from bot.report.build import (
    FORMATS,
    build_report,
    export_csv,
    first_screen_and_html,
    gap_groups,
    group_id_of,
    ignore_group,
    team_summary,
    unignore_group,
    weekly_summary,
)

__all__ = [
    "FORMATS",
    "build_report",
    "export_csv",
    "first_screen_and_html",
    "gap_groups",
    "group_id_of",
    "ignore_group",
    "team_summary",
    "unignore_group",
    "weekly_summary",
]
