"""AI risk identification: the scenario library, which scenarios apply to which AI system (a property test
against the documented rule), accepting and rejecting proposals, coverage and the audit rules."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import access, ai, audit, register, soa, store
from engine.ai import library
from engine.errors import InputError, NotFoundError, RuleViolation
from engine.register import vocab
from tests import stores

from .conftest import TEST_DATA

pytestmark = pytest.mark.both_stores

WHO = {"actor": "tester", "channel": "api"}
SCENARIO_DATA = TEST_DATA / "scenarios"
CHARS = list(vocab.AI_CHARACTERISTICS)
STAGES = library.STAGE_ORDER
ROLES = vocab.choices(vocab.AI_ROLES)


def one(db: Path, sql: str, params: list | None = None):
    con = stores.open_db(db)
    try:
        row = con.execute(sql, params or []).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def new_system(db: Path, **fields) -> str:
    return register.create_ai_system(db, {"name": "Test system", "status": "active", **fields}, **WHO)


# ------------------------------------------------------------------------------------------- the library

def test_the_bundled_library_is_valid_and_covers_annex_c() -> None:
    scenarios = library.load_library()
    assert len(scenarios) >= 40
    objectives = {o for s in scenarios for o in s.objectives}
    sources = {r for s in scenarios for r in s.risk_sources}
    assert {"fairness", "security", "safety", "privacy", "robustness", "transparency", "accountability"} <= objectives
    assert {"level of automation", "machine learning", "complexity of environment", "life cycle",
            "technology readiness", "lack of transparency", "hardware"} <= sources
    for s in scenarios:
        assert s.roles and s.stages and s.controls and s.cause and s.event and s.consequence_org, s.id
        assert any(c.startswith("iso42001-2023:") for c in s.controls), s.id
    by_id = {s.id: s for s in scenarios}
    assert "MITRE ATLAS AML.T0051" in by_id["SEC-01"].references  # prompt injection
    # The security risks of AI use the library must name: leakage through prompts and training data, wrong
    # outputs relied on (false negatives and positives), non-compliant automated decisions, model theft,
    # poisoning, supplier model changes and unauthorised AI use.
    titles = " ".join(s.title.lower() for s in scenarios)
    for needle in ("prompt injection", "through prompts", "training data recovered", "false negatives",
                   "false positives", "automated decisions", "theft", "poisoned", "supplier changes",
                   "unapproved ai tools"):
        assert needle in titles, needle


def test_every_library_file_has_a_copyright_header() -> None:
    for path in library.scenario_files():
        text = path.read_text(encoding="utf-8")
        assert "copyright:" in text and "own words" in text, path.name


def test_validate_accepts_the_bundled_and_a_good_file(run_cli) -> None:
    code, out, err = run_cli("validate")
    assert code == 0, out + err
    code, out, _err = run_cli("validate", SCENARIO_DATA / "good.yaml")
    assert code == 0 and "1 file(s) valid" in out


@pytest.mark.parametrize(("name", "record", "field", "message"), [
    ("unknown_control.yaml", "TST-01", "controls", "not an Annex A control"),
    ("unknown_characteristic.yaml", "TST-01", "requires", "unknown value"),
    ("unknown_role_and_stage.yaml", "TST-01", "roles", "unknown value"),
    ("unknown_role_and_stage.yaml", "TST-01", "stages", "unknown value"),
    ("duplicate_id.yaml", "TST-01", "id", "duplicate id"),
    ("missing_cause.yaml", "TST-01", "cause", "missing text"),
    ("bad_atlas_reference.yaml", "TST-01", "references", "not a MITRE ATLAS technique id"),
])
def test_validate_names_file_record_and_field(run_cli, name: str, record: str, field: str, message: str) -> None:
    path = SCENARIO_DATA / name
    code, out, err = run_cli("validate", path)
    assert code != 0 and "Traceback" not in err
    assert f"{path}:{record}:{field}: {message}" in out, out


def test_good_file_values_are_read_canonically() -> None:
    [s], problems = library.read_files([SCENARIO_DATA / "good.yaml"])
    assert problems == []
    assert s.roles == ("user", "provider")                  # "AI customer" is the user role
    assert s.risk_sources == ("machine learning", "level of automation")
    assert s.objectives == ("fairness", "transparency")
    assert s.requires_any == ("external_input", "interacts_with_people")


def test_init_loads_the_library_once(fresh_db: Path, run_cli) -> None:
    assert one(fresh_db, "SELECT count(*) FROM v_ai_scenarios") == len(library.load_library())
    code, out, _ = run_cli("init", "--db", fresh_db)
    assert code == 0 and "nothing changed" in out


def test_the_characteristics_view_lists_every_characteristic(fresh_db: Path) -> None:
    new_system(fresh_db)
    with store.connect(fresh_db) as con:
        names = [r[0] for r in con.execute("SELECT characteristic FROM v_ai_characteristics").fetchall()]
        columns = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = 'ai_systems'").fetchall()}
    assert names == CHARS
    assert set(CHARS) <= columns


# ------------------------------------------------------------------- which scenarios apply (the property)

def applies(s: library.Scenario, roles: list[str] | None, stage: str | None, values: dict[str, bool | None]) -> bool:
    """The rule of v_ai_risk_identification, written out independently: unrecorded facts rule nothing out."""
    if roles is not None and not set(roles) & set(s.roles):
        return False
    if stage is not None and STAGES.index(stage) > max(STAGES.index(x) for x in s.stages):
        return False
    if any(values[c] is False for c in s.requires) or any(values[c] is True for c in s.excludes):
        return False
    return not (s.requires_any and all(values[c] is False for c in s.requires_any))


flag = st.sampled_from([True, False, None])
systems = st.fixed_dictionaries({
    "roles": st.one_of(st.none(), st.lists(st.sampled_from(ROLES), min_size=1, max_size=3, unique=True)),
    "stage": st.one_of(st.none(), st.sampled_from(STAGES)),
    "values": st.fixed_dictionaries({c: flag for c in CHARS}),
})


def _set_system(db: Path, system_id: str, spec: dict) -> None:
    register.update_ai_system(db, system_id, {"role": ", ".join(spec["roles"]) if spec["roles"] else None,
                                              "lifecycle_stage": spec["stage"], **spec["values"]}, None, **WHO)


def _proposed(db: Path, system_id: str) -> dict[str, list[str]]:
    return {r["scenario_id"]: r["unrecorded"] for r in ai.proposals(db, system_id).iter_rows(named=True)}


@pytest.fixture(scope="module")
def bundled() -> list[library.Scenario]:
    return library.load_library()


def _db_with_system(template_db: Path, directory: Path) -> Path:
    path = stores.copy_db(template_db, directory, "p.duckdb")
    new_system(path)
    return path


@pytest.fixture(scope="module")
def property_db(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _db_with_system(template_db, tmp_path_factory.mktemp("property"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=systems)
def test_a_proposal_exists_exactly_when_a_library_scenario_applies(property_db: Path, bundled: list, spec: dict
                                                                  ) -> None:
    _set_system(property_db, "test-system", spec)
    got = _proposed(property_db, "test-system")
    assert set(got) == {s.id for s in bundled if applies(s, spec["roles"], spec["stage"], spec["values"])}
    for s in bundled:
        if s.id in got:  # a proposal names what it rests on that nobody recorded
            for c in s.requires:
                assert (c in got[s.id]) == (spec["values"][c] is None)
            assert ("role" in got[s.id]) == (spec["roles"] is None)


def _scenario(i: int, roles: list[str], stages: list[str], requires: list[str], requires_any: list[str],
              excludes: list[str]) -> library.Scenario:
    return library.Scenario(
        id=f"GEN-{i:02d}", theme="generated", title=f"Generated {i}", description="d", cause="c", event="e",
        consequence_org="o", consequence_individuals=None, risk_sources=("machine learning",),
        objectives=("safety",), cia=(), management_system="AIMS", roles=tuple(roles), stages=tuple(stages),
        requires=tuple(requires), requires_any=tuple(requires_any), excludes=tuple(excludes),
        controls=("iso42001-2023:A.6.2.4",), references=(), origin_file="generated.yaml", library_version="0",
        ordinal=i)


@st.composite
def generated_library(draw) -> list[library.Scenario]:
    out = []
    for i in range(draw(st.integers(1, 6))):
        chosen = draw(st.lists(st.sampled_from(CHARS), max_size=6, unique=True))
        cut1, cut2 = sorted(draw(st.lists(st.integers(0, len(chosen)), min_size=2, max_size=2)))
        any_part = chosen[cut1:cut2] if cut2 - cut1 != 1 else []
        out.append(_scenario(i + 1, draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=4, unique=True)),
                             draw(st.lists(st.sampled_from(STAGES), min_size=1, max_size=3, unique=True)),
                             chosen[:cut1], any_part, chosen[cut2:]))
    return out


@pytest.fixture(scope="module")
def generated_db(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Its own database: the library in it is replaced by generated ones."""
    return _db_with_system(template_db, tmp_path_factory.mktemp("generated"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios=generated_library(), spec=systems)
def test_a_proposal_exists_exactly_when_its_conditions_hold(generated_db: Path, scenarios: list, spec: dict) -> None:
    """Any conditions a library may state (roles, stages, requires, requires_any, excludes)."""
    with store.transaction(generated_db) as con:
        library.sync_library(con, scenarios)
    _set_system(generated_db, "test-system", spec)
    got = set(_proposed(generated_db, "test-system"))
    assert got == {s.id for s in scenarios if applies(s, spec["roles"], spec["stage"], spec["values"])}


def test_proposing_writes_nothing(fresh_db: Path, run_cli) -> None:
    sid = new_system(fresh_db)
    before = one(fresh_db, "SELECT count(*) FROM history")
    assert ai.proposals(fresh_db, sid).height > 0
    code, out, _ = run_cli("scenarios", "propose", "--ai-system", sid, "--db", fresh_db)
    assert code == 0 and "SEC-01" in out
    assert one(fresh_db, "SELECT count(*) FROM history") == before
    assert one(fresh_db, "SELECT count(*) FROM risks") == 0


# ----------------------------------------------------------------------------------------------- decisions

@pytest.fixture
def triage(fresh_db: Path) -> tuple[Path, str]:
    """A generative, safety-critical system in operation that takes outside input (prompt injection applies)."""
    sid = new_system(fresh_db, name="Triage bot", owner="Dana Owner", role="provider, user",
                     lifecycle_stage="operation", generative=True, external_input=True, safety_critical=True,
                     interacts_with_people=True, processes_personal_data=True, trained_in_house=False)
    return fresh_db, sid


def test_accept_creates_a_scored_risk_linked_to_the_system(triage: tuple[Path, str]) -> None:
    db, sid = triage
    rid = ai.accept(db, sid, "SEC-01", likelihood=3, impact=4, **WHO)
    risk = register.get_risk(db, rid)
    scenario = ai.get_scenario(db, "SEC-01")
    assert risk["ai_system_ids"] == [sid] and risk["owner"] == "Dana Owner"
    assert (risk["inherent_likelihood"], risk["inherent_impact"], risk["inherent_score"]) == (3, 4, 12)
    assert risk["cause"] == scenario["cause"] and risk["event"] == scenario["event"]
    assert risk["consequence_individuals"] == scenario["consequence_individuals"]
    assert risk["ai_risk_sources"] == list(scenario["risk_sources"])
    assert risk["ai_objectives"] == list(scenario["objectives"])
    assert risk["management_system"] == "both" and risk["integrity"] and risk["confidentiality"]
    assert {f"{c['framework']}:{c['ref']}" for c in risk["controls"]} == set(scenario["controls"])
    assert {c["status"] for c in risk["controls"]} == {"planned"}
    row = ai.identification(db, sid).filter(scenario_id="SEC-01").row(0, named=True)
    assert (row["state"], row["risk_id"], row["decided_by"]) == ("identified", rid, "tester")
    history = one(db, "SELECT count(*) FROM v_history WHERE entity = 'ai_scenario_decision' "
                      "AND entity_id = ? AND actor = 'tester' AND channel = 'api'", [f"{sid}/SEC-01"])
    assert history == 1


def test_a_failed_accept_writes_nothing(triage: tuple[Path, str]) -> None:
    db, sid = triage
    before = one(db, "SELECT count(*) FROM history")
    with pytest.raises(InputError, match="inherent_likelihood"):
        ai.accept(db, sid, "SEC-01", likelihood=9, impact=4, **WHO)
    with pytest.raises(InputError, match="impact"):
        ai.accept(db, sid, "SEC-01", likelihood=2, **WHO)
    assert one(db, "SELECT count(*) FROM history") == before
    assert one(db, "SELECT count(*) FROM risks") == 0
    assert ai.identification(db, sid).filter(scenario_id="SEC-01")["state"].to_list() == ["open"]


def test_accept_links_an_existing_risk_instead(triage: tuple[Path, str]) -> None:
    db, sid = triage
    rid = register.create_risk(db, {"title": "Injected instructions", "management_system": "AIMS"}, **WHO)
    assert ai.accept(db, sid, "SEC-01", risk_id=rid, **WHO) == rid
    assert register.get_risk(db, rid)["ai_system_ids"] == [sid]
    assert one(db, "SELECT count(*) FROM risks") == 1
    with pytest.raises(InputError, match="own scores"):
        ai.accept(db, sid, "USE-05", risk_id=rid, likelihood=2, impact=2, **WHO)
    # the risk no longer naming the system leaves the scenario open again
    register.unlink_ai_system(db, rid, sid, **WHO)
    assert ai.identification(db, sid).filter(scenario_id="SEC-01")["state"].to_list() == ["open"]
    assert ai.accept(db, sid, "SEC-01", risk_id=rid, **WHO) == rid


def test_reject_needs_a_reason_and_shows_it(triage: tuple[Path, str]) -> None:
    db, sid = triage
    with pytest.raises(InputError, match="reason"):
        ai.reject(db, sid, "SEC-01", "  ", **WHO)
    ai.reject(db, sid, "SEC-01", "All input is typed by our own clinicians", **WHO)
    row = ai.identification(db, sid).filter(scenario_id="SEC-01").row(0, named=True)
    assert (row["state"], row["reason"], row["risk_id"]) == ("not_applicable", "All input is typed by our own "
                                                                              "clinicians", None)


def test_decisions_are_refused_twice_and_for_scenarios_that_do_not_apply(triage: tuple[Path, str]) -> None:
    db, sid = triage
    ai.reject(db, sid, "SEC-01", "reason", **WHO)
    with pytest.raises(RuleViolation, match="already recorded as not applicable"):
        ai.accept(db, sid, "SEC-01", likelihood=1, impact=1, **WHO)
    with pytest.raises(RuleViolation, match="does not apply"):
        ai.accept(db, sid, "SEC-04", likelihood=1, impact=1, **WHO)  # needs trained_in_house, recorded as no
    with pytest.raises(NotFoundError):
        ai.accept(db, sid, "NOPE-01", likelihood=1, impact=1, **WHO)
    with pytest.raises(NotFoundError):
        ai.reject(db, "no-such-system", "SEC-01", "reason", **WHO)
    assert ai.reopen(db, sid, "SEC-01", **WHO)
    assert not ai.reopen(db, sid, "SEC-01", **WHO)
    assert ai.identification(db, sid).filter(scenario_id="SEC-01")["state"].to_list() == ["open"]
    actions = [r[0] for r in stores.open_db(db).execute(
        "SELECT action FROM v_history WHERE entity = 'ai_scenario_decision' ORDER BY id").fetchall()]
    assert actions == ["create", "delete"]


def test_changed_characteristics_change_the_proposals(triage: tuple[Path, str]) -> None:
    db, sid = triage
    assert "SEC-01" in set(ai.proposals(db, sid)["scenario_id"])
    version = register.get_ai_system(db, sid)["version"]
    ai.set_characteristics(db, sid, {"external_input": False}, version, **WHO)
    assert "SEC-01" not in set(ai.proposals(db, sid)["scenario_id"])
    with pytest.raises(InputError, match="not a characteristic"):
        ai.set_characteristics(db, sid, {"name": "x"}, None, **WHO)


def test_coverage_and_summary(triage: tuple[Path, str]) -> None:
    db, sid = triage
    other = new_system(db, name="Retired tool", lifecycle_stage="retired", role="user")
    applicable = ai.identification(db, sid).height
    ai.accept(db, sid, "SEC-01", likelihood=2, impact=2, **WHO)
    ai.reject(db, sid, "USE-05", "reason", **WHO)
    cov = {r["ai_system_id"]: r for r in ai.coverage(db).iter_rows(named=True)}
    assert (cov[sid]["n_applicable"], cov[sid]["n_identified"], cov[sid]["n_not_applicable"],
            cov[sid]["n_open"]) == (applicable, 1, 1, applicable - 2)
    assert not cov[sid]["fully_assessed"]
    retired = ai.identification(db, other)
    assert set(retired["scenario_id"]) == {"LIFE-03"}  # only the retirement scenario remains ahead of it
    for row in retired.iter_rows(named=True):
        ai.reject(db, other, row["scenario_id"], "nothing left behind", **WHO)
    assert ai.summary(db).fully_assessed == 1 and ai.summary(db).systems == 2


# ----------------------------------------------------------------------------------------------- audits

def test_open_scenarios_of_systems_in_the_soa_are_a_finding(triage: tuple[Path, str]) -> None:
    db, sid = triage
    assert audit.run_audits(db, rules=["ai_scenario_open"]).is_empty()   # not in scope of the SoA yet
    soa.set_row(db, "iso42001-2023", "A.6.2.4", applicable=True, reasons=["risk_treatment"], ai_systems=[sid],
                **WHO)
    found = audit.run_audits(db, rules=["ai_scenario_open"])
    assert found["entity_id"].to_list() == [sid]
    n_open = ai.identification(db, sid, "open").height
    assert found["detail"][0].startswith(f"{n_open} applicable risk scenario(s)") and "SEC-01" in found["detail"][0]
    for row in ai.identification(db, sid).iter_rows(named=True):
        ai.reject(db, sid, row["scenario_id"], "tested elsewhere", **WHO)
    assert audit.run_audits(db, rules=["ai_scenario_open"]).is_empty()


def test_scenarios_affecting_people_need_a_current_impact_assessment(triage: tuple[Path, str]) -> None:
    db, sid = triage
    rule = ["ai_scenario_without_impact_assessment"]
    found = audit.run_audits(db, rules=rule)
    assert found["entity_id"].to_list() == [sid]
    affecting = ai.identification(db, sid).filter(affects_individuals=True)["scenario_id"].to_list()
    assert "SEC-01" in affecting and all(s in found["detail"][0] for s in affecting)
    due = date.today() + timedelta(days=30)
    register.create_assessment(db, {"ai_system_id": sid, "title": "IA", "status": "current",
                                    "next_review_due": due}, **WHO)
    assert audit.run_audits(db, rules=rule).is_empty()
    assert audit.run_audits(db, rules=rule, today=due + timedelta(days=1))["entity_id"].to_list() == [sid]
    for s in affecting:   # ruling the scenarios out removes the need
        ai.reject(db, sid, s, "not for this system", **WHO)
    assert audit.run_audits(db, rules=rule, today=due + timedelta(days=1)).is_empty()


# ---------------------------------------------------------------------------------------------- the CLI

def test_cli_accept_reject_reopen_status(triage: tuple[Path, str], run_cli) -> None:
    db, sid = triage
    code, out, err = run_cli("scenarios", "accept", sid, "SEC-01", "--likelihood", "2", "--impact", "3",
                             "--no-controls", "--owner", "Sam", "--db", db)
    assert code == 0, err
    rid = out.split("risk ")[-1].strip()
    assert register.get_risk(db, rid)["owner"] == "Sam" and register.get_risk(db, rid)["controls"] == []
    code, out, err = run_cli("scenarios", "reject", sid, "USE-05", "--reason", "No free text", "--db", db)
    assert code == 0 and "not applicable" in out
    code, out, _ = run_cli("scenarios", "status", "--ai-system", sid, "--db", db, "--format", "csv")
    assert f"SEC-01,Prompt injection through untrusted content,identified,{rid}" in out
    assert "No free text" in out
    code, out, _ = run_cli("scenarios", "status", "--db", db, "--format", "json")
    assert code == 0 and '"n_identified":1' in out
    code, out, _ = run_cli("scenarios", "reopen", sid, "USE-05", "--db", db)
    assert code == 0 and "reopened" in out
    # the command line acts as the operating system account
    assert one(db, "SELECT count(*) FROM v_history WHERE channel = 'cli' AND actor = ?", [access.os_account()]) > 0


def test_cli_mistakes_are_one_clear_message(triage: tuple[Path, str], run_cli) -> None:
    db, sid = triage
    for args, needle in ((("scenarios", "accept", sid, "SEC-04", "--likelihood", "1", "--impact", "1"), "does not apply"),
                         (("scenarios", "accept", sid, "SEC-01"), "required to score the new risk"),
                         (("scenarios", "reject", sid, "SEC-01", "--reason", ""), "a reason is required"),
                         (("scenarios", "show", "XX-99"), "no AI risk scenario"),
                         (("scenarios", "characteristics", sid, "generative=maybe", "--expected-version", "1"),
                          "not yes, no or unknown")):
        code, out, err = run_cli(*args, "--db", db)
        assert code != 0 and needle in err and "Traceback" not in err, (args, err)


def test_cli_characteristics_show_and_set(triage: tuple[Path, str], run_cli) -> None:
    db, sid = triage
    code, out, _ = run_cli("scenarios", "characteristics", sid, "--db", db)
    assert code == 0 and "generative" in out and "not recorded" in out
    version = register.get_ai_system(db, sid)["version"]
    code, out, err = run_cli("scenarios", "characteristics", sid, "learns_in_operation=yes",
                             "fully-automated=no", "--expected-version", version, "--db", db)
    assert code == 0, err
    row = register.get_ai_system(db, sid)
    assert row["version"] == version + 1
    assert one(db, "SELECT learns_in_operation AND NOT fully_automated FROM ai_systems WHERE id = ?", [sid])
    code, _out, err = run_cli("scenarios", "characteristics", sid, "generative=no", "--expected-version",
                              version, "--db", db)
    assert code != 0 and "changed by someone else" in err
    code, out, _ = run_cli("scenarios", "list", "--theme", "privacy", "--db", db, "--format", "csv")
    assert code == 0 and out.count("PRIV-") == len(library.list_scenarios(db, "privacy"))
