"""Statistics as rich tables for the command line: units by code and name, the period in
Beijing time, as ``fengqiao stats`` prints them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from api.cli.display import period, unit_label
from domain.jurisdiction import Jurisdiction
from projections.statistics import Statistics

_ROLL_UP = (
    "registered", "resolved", "local_resolution_rate", "township_or_below_rate",
    "escalation_rate", "county_share", "on_time_rate", "follow_up_rate", "overdue_open",
)  # fmt: skip

# Each figure's heading: the Chinese term a 综治中心 reads, then the API's name.
LABELS = {
    "registered": "登记数", "registered_by_level": "登记（按等级）", "by_kind": "类型",
    "by_category": "类别", "by_channel": "来源渠道", "resolved": "化解数", "terminated": "终止数",
    "referred": "转办数", "resolution_rate": "化解率", "local_resolution_rate": "就地化解率",
    "escalation_rate": "上报率", "county_share": "上交率", "on_time_rate": "按期办结率",
    "overdue_open": "超期未办", "median_hours_to_resolve": "化解用时中位数（小时）",
    "satisfaction_rate": "满意率", "reopen_rate": "重办率", "township_or_below_rate": "不出镇率",
    "follow_up_rate": "回访率", "performance_rate": "履行率",
    "referrals_by_agency": "转出（按机关）",
    "referral_outcomes": "转办答复", "inbound_by_agency": "转入（按机关）",
    "reported_back": "已反馈", "supervision_orders": "督办数",
    "supervision_answered_on_time": "督办按期答复", "supervision_overdue": "督办逾期",
    "below_suggestion": "低于风险提示研判", "raised_by_triggers": "风险提示提级",
    "inspections_due": "督查回访到期", "inspections_on_time": "督查按期回访",
    "inspections_overdue": "督查回访逾期", "inspections_recorded": "督查回访数",
    "inspections_reached": "督查联系上当事人", "inspection_satisfaction_rate": "督查满意率",
    "follow_up_satisfaction_rate": "回访满意率", "reopened_by_inspection": "督查退回重办",
    "ratings_by_channel": "评价（按渠道）", "satisfaction_by_channel": "满意率（按渠道）",
    "invitations_sent": "邀请评价", "invitations_answered": "邀请已评价",
    "bad_ratings_reviewed": "差评核实", "bad_ratings_confirmed": "差评属实",
    "bad_ratings_disputed": "差评不属实",
}  # fmt: skip


def _label(name: str) -> str:
    return f"{LABELS.get(name, name)} {name}"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def statistics_tables(
    units: Jurisdiction,
    unit: str,
    start: datetime,
    end: datetime,
    totals: Statistics,
    children: list[tuple[str, Statistics]],
) -> list[RenderableType]:
    """A heading naming the unit and period (a line of its own: as a table's title it would
    wrap to the table's width), the unit's figures, its breakdowns, and one roll-up row per
    child unit."""
    figures = asdict(totals)
    heading = Text(f"statistics of {unit_label(units, unit)}, {period(start, end)}", style="bold")
    main = Table(title="指标 figures")
    main.add_column("指标 measure")
    main.add_column("数值 value", justify="right")
    breakdowns = Table(title="分类 breakdowns")
    for column in ("分类 breakdown", "项 key", "数 count"):
        breakdowns.add_column(column)
    for name, value in figures.items():
        if isinstance(value, dict):
            for key, count in sorted(value.items()):
                breakdowns.add_row(_label(name), Text(str(key)), _cell(count))  # users' words
        elif not isinstance(value, list):
            main.add_row(_label(name), _cell(value))
    roll_up = Table(title=Text(f"下级单位 children of {unit_label(units, unit)}"))
    roll_up.add_column("单位 unit")
    for name in _ROLL_UP:
        roll_up.add_column(LABELS[name], justify="right")
    for code, child in children:
        row = asdict(child)
        label = Text(unit_label(units, code))
        roll_up.add_row(label, *(_cell(row.get(name)) for name in _ROLL_UP))
    return [heading, main, breakdowns, roll_up]
