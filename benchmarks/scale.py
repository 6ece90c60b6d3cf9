"""Province-scale benchmark: a store of years of cases, built in bulk, then the reads timed.

    .venv/bin/python -m benchmarks.scale [--cases 1000000] [--template 20000]
        [--backend sqlite|postgres|both] [--views cases statistics]

Telling a million case stories through the commands takes hours (~150 cases/s), so the store is
grown from a template. The demo generator tells ``--template`` stories once, in memory, through
the real commands (every case event type the demo plays: registration to rating, escalations,
referrals, supervision, judicial confirmation, pauses and reopenings). The template is then laid
down again and again, each copy earlier than the next by as many days as its finished cases take
at the template's daily rate, so the log holds years of history at that rate and the present
looks like the demo's last 90 days. An earlier copy holds the template's finished cases only:
a case left open in March 2022 would not be a realistic queue. Each copy gives its cases new
ids, moves every time in their events (timestamps, deadlines, dates) by the copy's offset, and
numbers them again from their county's counter of their year, writing the counters' events
(``domain.numbering``) as a registration would, so a registration after the run gets the next
number; each counter is then snapshotted, as a live store's are every hundred numbers.

The events are encoded as production encodes them (AES-GCM and zlib, ``fengqiao keygen``'s
cipher) and written in transactions of ``BATCH`` events to SQLite and PostgreSQL at once; then
the views the reads need are rebuilt (``--views``; all twelve at a province's ten million
events would take over an hour a backend on two cores) and timed: queue per tier, city and
county statistics of 30 days, the children of each, a weekly series and a year. Prints one
table.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, is_dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from api.demo.load import WINDOW
from api.wiring.settings import encryption_env, new_cipher_key
from benchmarks.views import (
    UNITS,
    drop_store,
    generate,
    percentiles,
    snapshot_counters,
    store_env,
    store_views,
    timed,
)
from domain.application import FengqiaoApplication
from domain.case._state import CaseState
from domain.numbering import CaseNumbers, counter_id, number_year
from domain.status import OPEN
from projections.queue import get_queue
from projections.stats_queries import get_children, get_series, get_statistics
from projections.viewset import ViewSet

BATCH = 5_000
SCALE_NAMESPACE = UUID("6a1f3c2e-9b47-5d80-a1c3-5e2f7d9b0c16")
NUMBER = re.compile(r"^（\d{4}）(?P<middle>.*第)\d+号$")
CITY = "511100"
RUNS = 50


@dataclass
class Template:
    """The template's events: the world's (units, staff) once, and each case's in order."""

    world: list[DomainEventProtocol[UUID]] = field(default_factory=list)
    cases: dict[UUID, list[DomainEventProtocol[UUID]]] = field(default_factory=dict)
    finished: set[UUID] = field(default_factory=set)
    window: timedelta = WINDOW  # the demo's: its stories lie in the last 90 days

    @classmethod
    def told(cls, source: FengqiaoApplication) -> Template:
        template, start = cls(), 1
        while batch := source.recorder.select_notifications(start=start, limit=BATCH):
            for stored in batch:
                event = source.mapper.to_domain_event(stored)
                if isinstance(event, CaseState.Event):
                    template.cases.setdefault(event.originator_id, []).append(event)
                elif not isinstance(event, CaseNumbers.Started | CaseNumbers.Issued):
                    template.world.append(event)  # numbers are issued again, copy by copy
            start = batch[-1].id + 1
        template.finished = {case_id for case_id in template.cases if _at_rest(source, case_id)}
        return template

    def spacing(self) -> timedelta:
        """How far apart two copies lie: the finished cases of one copy spread over the same
        number of days as all the template's cases over its window (the same daily rate)."""
        share = len(self.finished) / max(1, len(self.cases))
        return timedelta(days=max(1, round(self.window.days * share)))

    def copies_for(self, cases: int) -> int:
        extra = max(0, cases - len(self.cases))
        return 1 + -(-extra // max(1, len(self.finished)))


def _at_rest(source: FengqiaoApplication, case_id: UUID) -> bool:
    """Whether a case asks nothing more of anyone: not open, and no clock left running (a
    follow-up, a rating, a referral's answer), so an earlier copy of it sits in no queue."""
    case = source.get_case(case_id)
    return case.status not in OPEN and not case.deadlines


@dataclass
class Numbers:
    """The counters of the whole store: each county, kind and year's last number."""

    last: dict[UUID, int] = field(default_factory=dict)

    def issue(
        self, registered: CaseState.Registered, case_id: UUID, at: datetime
    ) -> tuple[str, list[DomainEventProtocol[UUID]]]:
        kind = str(resolve_topic(registered.originator_topic).KIND)  # dispute, incident
        county, year = registered.unit[:6], number_year(at)
        counter = counter_id(county, kind, year)
        events: list[DomainEventProtocol[UUID]] = []
        if counter not in self.last:
            self.last[counter] = 0
            events.append(
                CaseNumbers.Started(  # type: ignore[call-arg]
                    originator_id=counter,
                    originator_version=1,
                    timestamp=at,
                    originator_topic=get_topic(CaseNumbers),
                    county=county,
                    kind=kind,
                    year=year,
                )
            )
        self.last[counter] += 1
        sequence = self.last[counter]
        events.append(
            CaseNumbers.Issued(  # type: ignore[call-arg]
                originator_id=counter,
                originator_version=sequence + 1,
                timestamp=at,
                sequence=sequence,
                case_id=case_id,
            )
        )
        match = NUMBER.match(registered.number)
        middle = match["middle"] if match else ("调字第" if kind == "dispute" else "事字第")
        return f"（{year}）{middle}{sequence:04d}号", events


def moved(value: Any, delta: timedelta, ids: dict[UUID, UUID]) -> Any:
    """``value`` with every time in it ``delta`` earlier and every case id renamed by ``ids``,
    down through dicts, lists and dataclasses (deadlines, parties, referrals)."""
    if isinstance(value, str):
        return ids_in_text(value, ids)
    if isinstance(value, datetime | date):
        return value - delta
    if isinstance(value, UUID):
        return ids.get(value, value)
    return _moved_within(value, delta, ids)


def _moved_within(value: Any, delta: timedelta, ids: dict[UUID, UUID]) -> Any:
    if isinstance(value, dict):
        return {moved(k, delta, ids): moved(v, delta, ids) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(moved(v, delta, ids) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return type(value)(**{k: moved(v, delta, ids) for k, v in vars(value).items()})
    return value  # numbers, enums, None


def ids_in_text(text: str, ids: dict[UUID, UUID]) -> str:
    if len(text) == 36 and text.count("-") == 4:
        try:
            return str(ids.get(UUID(text), text))
        except ValueError:
            return text
    return text


def laid_down(
    template: Template, copies: int, cases: int, numbers: Numbers
) -> Iterator[DomainEventProtocol[UUID]]:
    """The whole store's events: the world, then the copies from the oldest to the template
    itself, stopping at ``cases`` cases."""
    yield from template.world
    spacing, written = template.spacing(), 0
    for copy in range(copies - 1, -1, -1):
        delta = spacing * copy
        for case_id, events in template.cases.items():
            if written >= cases:
                return
            if copy and case_id not in template.finished:
                continue
            new_id = uuid5(SCALE_NAMESPACE, f"{copy}:{case_id}") if copy else case_id
            ids = {case_id: new_id}
            for event in events:
                copied = moved(event, delta, ids) if copy else event
                if isinstance(copied, CaseState.Registered):
                    number, counter_events = numbers.issue(copied, new_id, copied.timestamp)
                    yield from counter_events
                    copied = type(copied)(**{**vars(copied), "number": number})
                yield copied
            written += 1


def write(
    template: Template, copies: int, cases: int, apps: list[FengqiaoApplication]
) -> tuple[int, float]:
    """Encodes each event once (the backends share the cipher key) and inserts every batch into
    each backend; events written and seconds."""
    mapper, total, started, numbers = apps[0].mapper, 0, time.perf_counter(), Numbers()
    batch: list[StoredEvent] = []
    with Progress() as progress:
        task = progress.add_task(f"writing {cases:,} cases", total=None)
        for event in laid_down(template, copies, cases, numbers):
            batch.append(mapper.to_stored_event(event))
            if len(batch) == BATCH:
                for app in apps:
                    app.recorder.insert_events(batch)
                total += len(batch)
                progress.update(task, completed=total)
                batch = []
        for app in apps:
            if batch:
                app.recorder.insert_events(batch)
            snapshot_counters(app, numbers.last)
        total += len(batch)
    return total, time.perf_counter() - started


def measure(
    backend: str, views: ViewSet, names: list[str], events: int,
    now: datetime, table: Table,
) -> None:  # fmt: skip
    started = time.perf_counter()
    with Progress() as progress:
        task = progress.add_task(f"{backend}: rebuilding {', '.join(names)}", total=None)
        applied = views.rebuild(
            names, lambda name, n: progress.advance(task, n) if name == names[0] else None
        )
    seconds = time.perf_counter() - started
    table.add_row(
        backend,
        f"rebuild {' + '.join(names)} together",
        f"{events / seconds:,.0f} records/s ({seconds:,.0f} s; {max(applied.values()):,} applied)",
    )
    if "cases" in names:
        for tier, unit in UNITS.items():
            p50, p99 = percentiles(
                timed(lambda u=unit: get_queue(views.cases, u, now, limit=50), 200)
            )
            table.add_row(
                backend, f"queue {tier} {unit} (50)", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
            )
    if "statistics" in names:
        for label, read, unit, days in (
            ("statistics city 511100, 30 days", get_statistics, CITY, 30),
            ("statistics county 511123, 30 days", get_statistics, UNITS["county"], 30),
            ("children of county 511123, 30 days", get_children, UNITS["county"], 30),
            ("children of city 511100, 30 days", get_children, CITY, 30),
            ("series city 511100, 13 weeks", _weekly, CITY, 91),
            ("statistics city 511100, last year", get_statistics, CITY, 365),
        ):
            start = now - timedelta(days=days)

            def query(read: Any = read, unit: str = unit, start: datetime = start) -> object:
                return read(views.statistics, unit, start, now, now)

            timed(query, 3)
            p50, p99 = percentiles(timed(query, RUNS))
            table.add_row(backend, label, f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def _weekly(view: Any, unit: str, start: datetime, end: datetime, _now: datetime) -> object:
    return get_series(view, unit, start, end, "week")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--template", type=int, default=20_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--views", nargs="+", default=["cases", "statistics"])
    parser.add_argument("--keep", action="store_true", help="keep the stores, print where")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    template = Template.told(generate(min(args.cases, args.template), now))
    table = Table(title=f"fengqiao at scale: {args.cases:,} cases")
    for column in ("backend", "measure", "result"):
        table.add_column(column)
    table.add_row(
        "memory",
        f"template: {len(template.cases):,} cases told through the commands",
        f"{time.perf_counter() - started:,.0f} s; {len(template.finished):,} finished",
    )
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    key = new_cipher_key()
    stores = {backend: store_env(backend, "fq-scale-") for backend in backends}
    apps = {
        b: FengqiaoApplication(env={**env, **encryption_env(key)})
        for b, (env, _, _) in stores.items()
    }
    try:
        copies = template.copies_for(args.cases)
        events, seconds = write(template, copies, args.cases, list(apps.values()))
        years = template.spacing() * (copies - 1) + template.window
        table.add_row(
            " + ".join(backends),
            f"write {copies} copies, {years.days / 365:.1f} years (encode once, insert in each)",
            f"{events:,} events in {seconds:,.0f} s: {events / seconds:,.0f} events/s",
        )
        for backend, app in apps.items():
            _, workdir, schema = stores[backend]
            views = store_views(backend, app, workdir, schema)
            measure(backend, views, args.views, events, now, table)
            views.close()
    finally:
        for backend, app in apps.items():
            app.close()
            if args.keep:  # with the cipher key, so the kept store can be read again
                (stores[backend][1] / "cipher.key").write_text(key)
                Console().print(
                    f"{backend} kept: {stores[backend][1]} (schema {stores[backend][2]})"
                )
            else:
                drop_store(backend, *stores[backend][1:])
    Console().print(table)


if __name__ == "__main__":
    main()
