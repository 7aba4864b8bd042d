"""Many writers at once on one PostgreSQL store, counted and reconciled with the database afterwards.

For 30 s (``RISKMAP_WRITERS_SECONDS``), eleven OS processes write to one real PostgreSQL server with the
demo organisation loaded, the way a team does: app-like sessions through the engine API
(``update_risk``, ``soa.set_row``, ``plan.update_action``, ``create_risk``), people at the command
line (``riskmap risk set / soa set / plan update --expected-version``), and an import of new registers
(``riskmap import risks``) beside them. Each editor first reads the record's version, then edits it
with that version, as the app and the CLI do.

- Four writers own their records (risks, SoA rows, actions; API and CLI): every one of their edits must
  land. A fifth adds risks by hand while the importer brings in new ones: every risk must arrive.
- Four pairs collide on purpose: both writers of a pair read the same version of one record, meet at
  a barrier and edit it at once with that version (owners: API + API, API + CLI, CLI + CLI; an SoA
  row's AI-system scope, a link table: API + API): exactly one of the two must land, the other be
  refused as changed meanwhile.
- The importer's files must arrive whole, beside all of that.

Every attempt is counted: landed, refused (StaleEditError, or the CLI's "changed by someone else" with
exit code 1) or another error. Then the database is asked: every landed edit is in the history once
and each record's history is an unbroken chain (each change's old value is the previous change's new
value, so no edit was silently overwritten), the stored value and version are those of the last
landed edit, no refused edit left a trace, and every imported row is there with its lineage.
"""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import random
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from engine.access import SERVICE_ENV
from engine.records import text_of
from tests.access_support import EVERY_ROLE, write_roles
from tests.pg_server import Server

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("RISKMAP_WRITERS_SECONDS", "30"))
FW = "iso27001-2022"
AIMS = "iso42001-2023"
IMPORT_FILES, IMPORT_ROWS = 6, 200
REFUSED = "changed by someone else"
CREATED = "Added by hand"
SCOPES = (["AIS-01"], ["AIS-02"], ["AIS-01", "AIS-03"], ["AIS-04"], ["AIS-02", "AIS-05"])
"""AI-system scopes the scope pair sets in turn (an SoA row's link rows, not a column)."""


@dataclass(frozen=True)
class Writer:
    """One writing process: its name (the history's actor), how it writes (``api`` or ``cli``), the
    records it edits in turn, and for a colliding writer its pair (index) and role."""

    name: str
    channel: str
    targets: tuple[tuple[str, str], ...]
    pair: int | None = None
    leader: bool = False


def _risks(first: int, n: int) -> tuple[tuple[str, str], ...]:
    return tuple(("risk", f"R-{i:04d}") for i in range(first, first + n))


WRITERS = [
    Writer("api-risks", "api", _risks(10, 8)),
    Writer("api-soa", "api", tuple(("soa_row", f"{FW}:A.5.{i}") for i in range(1, 9))),
    Writer("api-actions", "api", tuple(("action", f"A-{i:03d}") for i in range(1, 9))),
    Writer("cli-mixed", "cli", (("risk", "R-0030"), ("soa_row", f"{FW}:A.6.1"), ("action", "A-010"))),
    Writer("pair0-api-a", "api", (("risk", "R-0001"), ("soa_row", f"{FW}:A.8.1"), ("action", "A-020")), 0, True),
    Writer("pair0-api-b", "api", (("risk", "R-0001"), ("soa_row", f"{FW}:A.8.1"), ("action", "A-020")), 0),
    Writer("pair1-api", "api", (("risk", "R-0002"), ("action", "A-021")), 1, True),
    Writer("pair1-cli", "cli", (("risk", "R-0002"), ("action", "A-021")), 1),
    Writer("pair2-cli-a", "cli", (("soa_row", f"{FW}:A.8.2"),), 2, True),
    Writer("pair2-cli-b", "cli", (("soa_row", f"{FW}:A.8.2"),), 2),
    Writer("pair3-scope-a", "api", (("soa_scope", f"{AIMS}:A.6.2.4"),), 3, True),
    Writer("pair3-scope-b", "api", (("soa_scope", f"{AIMS}:A.6.2.4"),), 3),
    Writer("api-creator", "api", ()),
]
IMPORTER = "importer"
FIELD = {"risk": ("risk", "owner"), "soa_row": ("soa_row", "owner"), "action": ("action", "owner"),
         "soa_scope": ("soa_row", "ai_systems")}
"""Each kind of edit as the history records it: (entity, field)."""


# ------------------------------------------------------------------------------------------ writing

def _riskmap() -> str:
    return str(Path(sys.executable).parent / "riskmap")


def _version(url: str, entity: str, record_id: str) -> int:
    """The version of the record as the app shows it (what an edit is based on)."""
    from engine import register, soa, store

    if entity == "risk":
        return int(register.get_risk(url, record_id)["version"])
    if entity in ("soa_row", "soa_scope"):
        fw, ref = record_id.split(":", 1)
        return int(soa.get_row(url, fw, ref)["version"])
    with store.connect(url) as con:
        return int(con.execute("SELECT version FROM actions WHERE id = ?", [record_id]).fetchone()[0])


_ROLES: list[Path] = []


def _as_job(name: str) -> dict[str, str]:
    """The environment of a CLI writer: the scheduled job ``name`` (a service identity of a roles file that
    lists every writer), so the history's actor says which process wrote."""
    if not _ROLES:
        folder = Path(tempfile.mkdtemp(prefix="riskmap-writers-"))
        _ROLES.append(write_roles(folder / "roles.yaml", {n: EVERY_ROLE for n in [*(w.name for w in WRITERS),
                                                                                    IMPORTER]}))
    return {**os.environ, "RISKMAP_ROLES": str(_ROLES[0]), SERVICE_ENV: name}


def _edit_api(url: str, w: Writer, entity: str, record_id: str, value: Any, version: int | None) -> None:
    from engine import plan, register, soa

    who = {"actor": w.name, "channel": "api"}
    if entity == "create":
        register.create_risk(url, {"title": value, "management_system": "ISMS"}, **who)
    elif entity == "risk":
        register.update_risk(url, record_id, {"owner": value}, version, **who)
    elif entity == "soa_row":
        fw, ref = record_id.split(":", 1)
        soa.set_row(url, fw, ref, owner=value, expected_version=version, **who)
    elif entity == "soa_scope":
        fw, ref = record_id.split(":", 1)
        soa.set_row(url, fw, ref, ai_systems=value, expected_version=version, **who)
    else:
        plan.update_action(url, record_id, owner=value, expected_version=version, **who)


def _cli_args(entity: str, record_id: str, value: str, version: int) -> list[str]:
    if entity == "risk":
        return ["risk", "set", record_id, "owner", value]
    if entity == "soa_row":
        return ["soa", "set", record_id, "--owner", value]
    return ["plan", "update", record_id, "--owner", value]


def _attempt(url: str, w: Writer, entity: str, record_id: str, value: Any, version: int | None) -> dict[str, Any]:
    """One edit, and what became of it."""
    from engine.errors import StaleEditError

    out: dict[str, Any] = {"writer": w.name, "channel": w.channel, "entity": entity, "record": record_id,
                           "value": value, "base": version, "pair": w.pair}
    if w.channel == "cli":
        cmd = [_riskmap(), *_cli_args(entity, record_id, value, version), "--expected-version", str(version),
               "--db", url]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=_as_job(w.name))
        if done.returncode == 0:
            return out | {"outcome": "landed"}
        refused = done.returncode == 1 and REFUSED in done.stderr and "Traceback" not in done.stderr
        return out | {"outcome": "refused" if refused else "error",
                      "message": f"exit {done.returncode}: {done.stderr.strip()[-2000:]}"}
    try:
        _edit_api(url, w, entity, record_id, value, version)
        return out | {"outcome": "landed"}
    except StaleEditError as exc:
        return out | {"outcome": "refused", "message": str(exc)}
    except Exception as exc:  # counted, and the test fails on it
        return out | {"outcome": "error", "message": f"{type(exc).__name__}: {exc}"}


def _own_records(url: str, w: Writer, deadline: float) -> list[dict[str, Any]]:
    """Edit the writer's own records in turn until the deadline."""
    done, n = [], 0
    while time.time() < deadline:
        n += 1
        if not w.targets:  # the creator: a new risk each time, with a title of its own
            done.append(_attempt(url, w, "create", "", f"{CREATED} risk {n}", None))
            continue
        entity, record_id = w.targets[(n - 1) % len(w.targets)]
        done.append(_attempt(url, w, entity, record_id, f"{w.name} #{n}", _version(url, entity, record_id)))
    return done


def _collide(url: str, w: Writer, barrier: Any, go: Any, deadline: float) -> list[dict[str, Any]]:
    """Edit the pair's record at once with the other writer, both based on the version read before
    the barrier; the leader decides when the pair stops and staggers its edit a little at random, so
    either side may win."""
    done, n = [], 0
    rng = random.Random(w.name)
    while True:
        entity, record_id = w.targets[n % len(w.targets)]
        n += 1
        if w.leader:
            go.value = time.time() < deadline
        version = _version(url, entity, record_id)
        barrier.wait(timeout=300)
        if not go.value:
            return done
        if w.leader:
            time.sleep(rng.uniform(0, 0.15 if w.channel == "api" else 1.0))
        value: Any = f"{w.name} #{n}"
        if entity == "soa_scope":  # two scopes that differ from each other and from the stored one
            value = SCOPES[(2 * n + (0 if w.leader else 1)) % len(SCOPES)]
        done.append(_attempt(url, w, entity, record_id, value, version))
        barrier.wait(timeout=300)


def _import(url: str, files: list[str], deadline: float) -> list[dict[str, Any]]:
    """Import new registers one after the other through the CLI while the editors write."""
    done = []
    for path in files:
        if time.time() >= deadline:
            break
        source = Path(path).stem
        cmd = [_riskmap(), "import", "risks", path, "--source", source, "--db", url]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=_as_job(IMPORTER))
        outcome = "landed" if run.returncode == 0 else (
            "refused" if run.returncode == 1 and REFUSED in run.stderr else "error")
        done.append({"writer": IMPORTER, "channel": "cli", "entity": "import", "record": source, "value": path,
                     "base": None, "pair": None, "outcome": outcome,
                     "message": "" if outcome == "landed" else f"exit {run.returncode}: {run.stderr[-2000:]}"})
    return done


def _work(url: str, index: int, start: tuple[Any, Any], barriers: list[Any], flags: list[Any], deadline_q: Any,
          results: Any, files: list[str]) -> None:
    """A writing process: connect (untimed), wait for everyone, write until the deadline, report."""
    try:
        from engine import store

        with store.connect(url) as con:  # attach the server and define the views before the clock starts
            con.execute("SELECT count(*) FROM v_risk_register").fetchone()
        ready, go = start
        ready.put(index)
        if not go.wait(timeout=600):
            raise TimeoutError("the run did not start")
        deadline = deadline_q.get()
        if index == len(WRITERS):
            results.put(_import(url, files, deadline))
            return
        w = WRITERS[index]
        if w.pair is None:
            results.put(_own_records(url, w, deadline))
        else:
            results.put(_collide(url, w, barriers[w.pair], flags[w.pair], deadline))
    except BaseException as exc:
        name = IMPORTER if index == len(WRITERS) else WRITERS[index].name
        results.put([{"writer": name, "channel": "?", "entity": "?", "record": "?", "value": None, "base": None,
                      "pair": None, "outcome": "crashed", "message": f"{type(exc).__name__}: {exc}"}])


# ------------------------------------------------------------------------------------------ the run

def _register_files(folder: Path) -> list[str]:
    """New registers for the importer: each title with a number of its own (titles whose numbers differ
    are never the same risk, so no row merges with another or with the demo's risks), a control
    reference each."""
    paths = []
    controls = ["A.5.1", "A.8.8", "A.5.15; A.8.16", "ISO 27001:2013 A.12.4.1"]
    for f in range(IMPORT_FILES):
        path = folder / f"unit-{f + 1:02d}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["Risk ID", "Title", "Description", "Likelihood", "Impact", "Owner", "Controls",
                          "Status"])
            for r in range(IMPORT_ROWS):
                out.writerow([f"U{f + 1}-{r + 1:04d}", f"Supplier portal weakness {f * IMPORT_ROWS + r + 1}",
                              "Found in a supplier review.", 1 + r % 5, 1 + (r * 3) % 5, f"Owner {r % 7}",
                              controls[r % len(controls)], "Open"])
        paths.append(str(path))
    return paths


@dataclass
class Run:
    url: str
    attempts: list[dict[str, Any]]
    initial: dict[tuple[str, str], int]
    files: list[str]
    seconds: float
    history_from: int = 0
    counts: Counter = field(default_factory=Counter)


def _wait_until_ready(procs: list[Any], ready: Any, results: Any) -> None:
    """Wait for every writer to be connected; a writer that failed before that fails the run at once,
    with its message (not after a timeout)."""
    import queue

    waiting, deadline = len(procs), time.monotonic() + 600
    while waiting:
        try:
            ready.get(timeout=2)
            waiting -= 1
            continue
        except queue.Empty:
            pass
        if any(not p.is_alive() for p in procs) or time.monotonic() > deadline:
            failed = []
            while not results.empty():
                failed += [a["message"] for a in results.get() if a["outcome"] == "crashed"]
            for p in procs:
                p.kill()
            pytest.fail("writers failed before the run started: " + ("; ".join(failed) or "no message"))


@pytest.fixture(scope="module")
def run(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Run:
    from engine import demo, store

    url = server.database()
    demo._build(url, lambda _line: None)
    files = _register_files(tmp_path_factory.mktemp("registers"))
    targets = {t for w in WRITERS for t in w.targets}
    initial = {t: _version(url, *t) for t in sorted(targets)}
    with store.connect(url) as con:
        history_from = int(con.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0])

    ctx = mp.get_context("spawn")
    n = len(WRITERS) + 1
    ready, go = ctx.Queue(), ctx.Event()  # each writer says it is ready; the clock starts when all are
    pairs = sorted({w.pair for w in WRITERS if w.pair is not None})
    barriers = [ctx.Barrier(2) for _ in pairs]
    flags = [ctx.Value("b", True) for _ in pairs]
    deadline_q, results = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_work, args=(url, i, (ready, go), barriers, flags, deadline_q, results, files))
             for i in range(n)]
    # An AppTest earlier in this process leaves the app script as __main__, which spawned processes would
    # run again on start: they start from an empty __main__ instead.
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        for p in procs:
            p.start()
    finally:
        sys.modules["__main__"] = main
    _wait_until_ready(procs, ready, results)
    go.set()
    began = time.time()
    for _ in procs:
        deadline_q.put(began + SECONDS)
    attempts: list[dict[str, Any]] = []
    for _ in procs:
        attempts.extend(results.get(timeout=SECONDS + 600))
    seconds = time.time() - began
    for p in procs:
        p.join(timeout=60)
    return Run(url, attempts, initial, files, seconds, history_from)


def _counts(attempts: list[dict[str, Any]]) -> Counter:
    return Counter(a["outcome"] for a in attempts)


def _report(run: Run) -> str:
    lines = [f"{len(WRITERS) + 1} writing processes for {run.seconds:.1f} s on one PostgreSQL store",
             f"{'writer':<14} {'attempted':>9} {'landed':>7} {'refused':>8} {'errors':>7}"]
    by_writer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in run.attempts:
        by_writer[a["writer"]].append(a)
    for name in [w.name for w in WRITERS] + [IMPORTER]:
        c = _counts(by_writer[name])
        lines.append(f"{name:<14} {len(by_writer[name]):>9} {c['landed']:>7} {c['refused']:>8} "
                     f"{c['error'] + c['crashed']:>7}")
    c = _counts(run.attempts)
    lines.append(f"{'total':<14} {len(run.attempts):>9} {c['landed']:>7} {c['refused']:>8} "
                 f"{c['error'] + c['crashed']:>7}")
    races = Counter("lost the race (serialization)" if "meanwhile" in a.get("message", "") else
                    "stale version" for a in run.attempts if a["outcome"] == "refused")
    lines.append("refusals: " + ", ".join(f"{k} {v}" for k, v in sorted(races.items())))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ the checks

def test_every_write_is_accounted_for(run: Run) -> None:
    print("\n" + _report(run))
    problems = [a for a in run.attempts if a["outcome"] not in ("landed", "refused")]
    assert not problems, "writes that failed otherwise:\n" + "\n".join(
        f"{a['writer']} {a['entity']} {a['record']}: {a['message']}" for a in problems[:10])
    c = _counts(run.attempts)
    assert len(run.attempts) == c["landed"] + c["refused"]
    landed_by = Counter(a["writer"] for a in run.attempts if a["outcome"] == "landed")
    missing = {w.name for w in WRITERS if w.pair is None} | {IMPORTER}
    assert not missing - set(landed_by), f"writers with no edit landed: {missing - set(landed_by)}"
    played = Counter(a["pair"] for a in run.attempts if a["pair"] is not None)
    assert all(played[w.pair] >= 2 for w in WRITERS if w.pair is not None), f"pairs that never collided: {played}"


def test_edits_of_different_records_all_land(run: Run) -> None:
    own = [a for a in run.attempts if a["pair"] is None and a["entity"] in FIELD]
    assert own and all(a["outcome"] == "landed" for a in own), [a for a in own if a["outcome"] != "landed"][:5]


def test_two_edits_of_one_version_give_exactly_one_winner(run: Run) -> None:
    rounds: dict[tuple[str, str, int], list[dict[str, Any]]] = defaultdict(list)
    for a in run.attempts:
        if a["pair"] is not None:
            rounds[(a["entity"], a["record"], a["base"])].append(a)
    for key, pair in rounds.items():
        assert len(pair) == 2, f"{key}: the two writers of a pair read different versions: {pair}"
        assert sorted(a["outcome"] for a in pair) == ["landed", "refused"], f"{key}: {pair}"
    winners = Counter(a["channel"] for pair in rounds.values() for a in pair if a["outcome"] == "landed")
    print(f"\ncollisions: {len(rounds)} rounds, won by api {winners['api']}, by cli {winners['cli']}")


def _history(run: Run) -> dict[tuple[str, str], list[tuple[str, str | None, str | None]]]:
    """The owner and AI-system changes recorded since the run began, per edited (kind, record), oldest
    first, as (actor, old value, new value)."""
    from engine import store

    kinds = {v: k for k, v in FIELD.items()}
    with store.connect(run.url) as con:
        got = con.execute("SELECT entity, field, entity_id, actor, old_value, new_value FROM history "
                          "WHERE id > ? AND field IN ('owner', 'ai_systems') AND actor <> ? AND action = 'update' "
                          "ORDER BY id", [run.history_from, IMPORTER]).fetchall()
    out: dict[tuple[str, str], list[tuple[str, str | None, str | None]]] = defaultdict(list)
    for entity, fld, rid, actor, old, new in got:
        out[(kinds[(entity, fld)], rid)].append((actor, old, new))
    return out


def _stored(run: Run, kind: str, record_id: str) -> tuple[str | None, int]:
    """The stored value (as the history writes it) and version of an edited record."""
    from engine import store

    table, where, keys = {"risk": ("risks", "id = ?", [record_id]),
                          "action": ("actions", "id = ?", [record_id])}.get(
        kind, ("soa_rows", "framework = ? AND ref = ?", record_id.split(":", 1)))
    with store.connect(run.url) as con:
        owner, version = con.execute(f"SELECT owner, version FROM {table} WHERE {where}", keys).fetchone()
        if kind != "soa_scope":
            return owner, int(version)
        scope = [r[0] for r in con.execute("SELECT ai_system_id FROM soa_row_ai_systems WHERE framework = ? "
                                           "AND ref = ? ORDER BY 1", keys).fetchall()]
    return text_of(scope, pl.List(pl.String)), int(version)


def _text(value: Any) -> str:
    return str(text_of(value, pl.List(pl.String))) if isinstance(value, list) else str(value)


def test_every_landed_edit_is_stored_and_no_refusal_left_a_trace(run: Run) -> None:
    history = _history(run)
    landed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in run.attempts:
        if a["outcome"] == "landed" and a["entity"] in FIELD:
            landed[(a["entity"], a["record"])].append(_text(a["value"]))
    refused = {a["value"] for a in run.attempts if a["outcome"] == "refused" and a["entity"] in FIELD
               and isinstance(a["value"], str)}
    assert set(history) <= set(run.initial), f"edits of records nobody edited: {set(history) - set(run.initial)}"
    for target, start_version in run.initial.items():
        chain = history.get(target, [])
        news = [new for _, _, new in chain]
        assert sorted(news) == sorted(landed[target]), f"{target}: history {news}, landed {landed[target]}"
        for (_, _, prev), (_, old, _) in zip(chain, chain[1:], strict=False):
            assert old == prev, f"{target}: an edit was based on {old!r} but {prev!r} had been stored before it"
        stored, version = _stored(run, *target)
        assert version == start_version + len(chain), f"{target}: version {version}, {len(chain)} edits"
        if chain:
            assert stored == chain[-1][2], f"{target}: stored {stored!r}, last landed edit {chain[-1][2]!r}"
        assert stored not in refused
    assert not refused & {new for chain in history.values() for _, _, new in chain}


def test_risks_added_by_hand_beside_the_import_all_arrive(run: Run) -> None:
    from engine import store

    made = [a for a in run.attempts if a["entity"] == "create"]
    assert made and all(a["outcome"] == "landed" for a in made), [a for a in made if a["outcome"] != "landed"][:3]
    with store.connect(run.url) as con:
        got = con.execute("SELECT r.title, count(DISTINCT r.id), count(h.id) FROM risks r "
                          "LEFT JOIN history h ON h.entity = 'risk' AND h.entity_id = r.id AND h.action = 'create' "
                          "WHERE r.title LIKE ? GROUP BY r.title", [f"{CREATED} %"]).fetchall()
    assert sorted(got) == sorted((a["value"], 1, 1) for a in made)


def test_the_import_beside_the_edits_lost_nothing(run: Run) -> None:
    from engine import store

    imports = [a for a in run.attempts if a["entity"] == "import"]
    assert imports and all(a["outcome"] == "landed" for a in imports), imports
    with store.connect(run.url) as con:
        for a in imports:
            source = a["record"]
            n, risks, first, last = con.execute(
                "SELECT count(*), count(DISTINCT risk_id), min(source_row), max(source_row) "
                "FROM risk_sources WHERE source = ?", [source]).fetchone()
            assert (n, risks, first, last) == (IMPORT_ROWS, IMPORT_ROWS, 2, IMPORT_ROWS + 1), source
            created = con.execute(
                "SELECT count(*) FROM history h JOIN risk_sources s ON s.risk_id = h.entity_id "
                "WHERE s.source = ? AND h.entity = 'risk' AND h.action = 'create'", [source]).fetchone()[0]
            assert created == IMPORT_ROWS, source
            titles = con.execute("SELECT count(*) FROM risks r JOIN risk_sources s ON s.risk_id = r.id "
                                 "WHERE s.source = ? AND r.title LIKE 'Supplier portal weakness %'",
                                 [source]).fetchone()[0]
            assert titles == IMPORT_ROWS, f"{source}: rows merged into other risks"
