"""The one parser of control references (engine.crosswalk.refs): its forms, its refusals, and its
scalar and vectorised entries giving the same answers."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from engine import plan, register
from engine.crosswalk.refs import framework_id, parse_control, parse_pieces, ref_of
from engine.errors import NotFoundError
from tests.test_soa_support import seed_register

pytestmark = pytest.mark.both_stores

FORMS = [
    # text, default framework, annex_a, expected (framework, ref)
    ("iso27001-2022:A.5.1", None, False, ("iso27001-2022", "A.5.1")),
    ("27001:A.5.1", None, False, ("iso27001-2022", "A.5.1")),
    ("42001:A.6.2.8", None, False, ("iso42001-2023", "A.6.2.8")),
    ("iso42001-2023:6.1.4", None, False, ("iso42001-2023", "6.1.4")),   # a clause stays a clause
    ("iso27001-2013:A.12.4.1", None, False, ("iso27001-2013", "A.12.4.1")),
    ("ISO 27001:2013 A.12.4.1", None, False, ("iso27001-2013", "A.12.4.1")),
    ("27001:2022 A.5.1", None, False, ("iso27001-2022", "A.5.1")),
    ("ISO/IEC 42001 A.6.2.8", None, False, ("iso42001-2023", "A.6.2.8")),
    ("42001 A.6.2.8", None, False, ("iso42001-2023", "A.6.2.8")),
    ("org:ORG.1", None, False, ("org", "ORG.1")),
    ("A.5.2", "iso42001-2023", False, ("iso42001-2023", "A.5.2")),
    ("a.5.1", "iso27001-2022", False, ("iso27001-2022", "A.5.1")),
    ("A 5.1", "iso27001-2022", True, ("iso27001-2022", "A.5.1")),
    ("A5.1", "iso27001-2022", True, ("iso27001-2022", "A.5.1")),
    ("Annex A 5.1", "iso27001-2022", True, ("iso27001-2022", "A.5.1")),
    ("5.1", "iso27001-2022", True, ("iso27001-2022", "A.5.1")),         # in a register, Annex A
    ("5.1", "iso27001-2022", False, ("iso27001-2022", "5.1")),          # elsewhere, clause 5.1
    ("A.8.15 Logging", "iso27001-2022", True, ("iso27001-2022", "A.8.15")),
    ("A.12.4.1", "27001:2013", True, ("iso27001-2013", "A.12.4.1")),
]


@pytest.mark.parametrize(("text", "default", "annex_a", "expected"), FORMS, ids=[f[0] for f in FORMS])
def test_forms_of_one_reference(text: str, default: str | None, annex_a: bool, expected: tuple[str, str]) -> None:
    assert parse_control(text, default, annex_a=annex_a) == expected


@pytest.mark.parametrize("annex_a", [True, False])
def test_the_vectorised_entry_agrees_with_the_scalar_one(annex_a: bool) -> None:
    texts = [f[0] for f in FORMS] + ["see policy", "42001:2019 A.5.2", "A.5.1-A.5.3"]
    cells = pl.DataFrame({"cell": list(range(len(texts))), "text": texts,
                          "default_fw": ["iso27001-2022"] * len(texts)})
    parsed = parse_pieces(cells, annex_a=annex_a).sort("cell")
    assert parsed.height == len(texts)
    for text, row in zip(texts, parsed.iter_rows(named=True), strict=True):
        try:
            expected: tuple[str, str] | None = parse_control(text, "iso27001-2022", annex_a=annex_a)
        except NotFoundError:
            expected = None
        got = (row["framework"], row["ref"]) if row["ok"] and not row["bad_year"] else None
        assert got == expected, text


@pytest.mark.parametrize(("text", "message"), [
    ("A.5.2", "ambiguous"), ("5.1", "ambiguous"), ("", "expected framework:ref"),
    ("iso27001-2022:", "expected framework:ref"), ("42001:2019 A.5.2", "unknown edition"),
    ("A.5.1, A.5.2", "name one control"),
])
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(NotFoundError, match=message):
        parse_control(text)


def test_framework_names_and_refs_of_one_framework() -> None:
    assert [framework_id(t) for t in ("27001", "ISO 27001:2013", "iso42001", "iso27001-2022", "org")] == [
        "iso27001-2022", "iso27001-2013", "iso42001-2023", "iso27001-2022", "org"]
    assert ref_of("iso27001-2022:A.8.15", "iso27001-2022") == "A.8.15"
    assert ref_of("A.8.15", "iso27001-2022") == "A.8.15"
    assert ref_of("iso42001-2023:A.6.2.8", "iso27001-2022") == "iso42001-2023:A.6.2.8"  # reported, not dropped
    assert ref_of("see policy", "iso27001-2022") == "see policy"


def test_every_place_a_control_is_named_reads_the_short_forms(fresh_db: Path, run_cli) -> None:
    seed_register(fresh_db)
    who = {"actor": "ana", "channel": "test"}
    aid = plan.add_action(fresh_db, title="Logging", controls=["27001:2022 A.8.15", "ISO/IEC 42001 A.6.2.8"],
                          **who)
    assert plan.unlink_control(fresh_db, aid, "iso27001-2022:A.8.15", **who) is True
    assert register.link_control(fresh_db, "R-3", "27001", "8.15", actor="ana") is True
    assert register.unlink_control(fresh_db, "R-3", "iso27001-2022", "A.8.15", actor="ana") is True
    code, out, _ = run_cli("counterparts", "27001:2013 A.12.4.1", "--db", fresh_db, "--format", "csv")
    assert code == 0 and "A.8.15" in out
    code, _, err = run_cli("counterparts", "A.5.2", "--db", fresh_db)
    assert code != 0 and "ambiguous" in err and "Traceback" not in err
