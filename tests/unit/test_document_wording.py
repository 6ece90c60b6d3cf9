"""How documents word what a case stores: amounts in capitals (大写) as banks write them,
times in Beijing time, codes as labels, and free text cleaned of what XML cannot hold."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from api.documents import wording as w
from tests.support.world import T0


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("0", "零元整"),
        ("0.05", "伍分"),
        ("0.5", "伍角整"),
        ("1", "壹元整"),
        ("10", "壹拾元整"),
        ("110", "壹佰壹拾元整"),
        ("1001", "壹仟零壹元整"),
        ("1010", "壹仟零壹拾元整"),
        ("1200.50", "壹仟贰佰元伍角整"),
        ("12.34", "壹拾贰元叁角肆分"),
        ("100.05", "壹佰元零伍分"),
        ("10005.07", "壹万零伍元零柒分"),
        ("200000", "贰拾万元整"),
        ("100000000", "壹亿元整"),
        ("100010000", "壹亿零壹万元整"),
        ("100000001", "壹亿零壹元整"),
        ("1000000000000", "壹万亿元整"),
        ("0.005", "壹分"),  # rounded half up to the fen
    ],
)
def test_amounts_in_capitals(amount: str, capitals: str) -> None:
    assert w.rmb_capitals(Decimal(amount)) == capitals


@pytest.mark.parametrize("amount", ["-1", "10000000000000000", "NaN", "Infinity"])
def test_amounts_no_capitals_can_spell(amount: str) -> None:
    assert w.rmb_capitals(Decimal(amount)) is None


def test_an_amount_is_written_in_figures_and_capitals() -> None:
    assert w.amount(Decimal("1200.5")) == "1,200.50 元（人民币壹仟贰佰元伍角整）"
    assert w.amount(Decimal("1E+17")) == "100,000,000,000,000,000.00 元"
    assert w.amount(None) == w.BLANK


def test_times_are_in_beijing_time() -> None:
    assert w.day(T0) == "2026年9月28日"
    assert w.minute(T0) == "2026年9月28日 10时00分"
    late = datetime(2026, 9, 28, 16, 5, tzinfo=UTC)  # past midnight in Beijing
    assert w.minute(late) == "2026年9月29日 00时05分"
    assert w.day(None) == w.minute(None) == w.BLANK


def test_codes_are_labelled_and_unknown_ones_kept() -> None:
    assert w.label(w.CHANNELS, "court") == "人民法院诉前委派"
    assert w.label(w.CHANNELS, "carrier_pigeon") == "carrier_pigeon"
    assert w.label(w.OUTCOMES, None) == w.BLANK
    assert w.yes_no(True) == "是"
    assert w.yes_no(None) == w.BLANK


def test_free_text_loses_what_a_document_cannot_hold() -> None:
    assert w.clean("一\r\n二\r三\t四\x07\x0c\x1b五\ufffe") == "一\n二\n三 四五"
    assert w.clean(None) == ""
