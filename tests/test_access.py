"""Access control on its own: principals, the roles file, the role x operation table, local accounts, the
command line's principal."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from engine import access
from engine.access import Principal, principal_for, require
from engine.access.permissions import OPERATIONS
from engine.errors import ConfigError, InputError, PermissionDenied

from .access_support import use_roles
from .conftest import ROOT

ADMIN = Principal("the-admin", grants={"admin": None})

ROLES_FILE = """\
# the team's roles, reviewed like code
groups_claim: memberOf
groups:
  grc-admins: {roles: [admin]}
  clinical-team: {roles: [contributor], units: [Clinical]}
users:
  ann@example.org:
    name: Ann Approver   # the CISO
    roles: [approver, viewer]
  carl@example.org:
    roles: [contributor]
    units: [Clinical, Platform]
  # a scheduled job
  nightly-import:
    roles: [contributor]
"""


@pytest.fixture
def roles(tmp_path: Path) -> access.RolesFile:
    path = tmp_path / "roles.yaml"
    path.write_text(ROLES_FILE, encoding="utf-8")
    rf = access.load_roles(path)
    assert rf is not None
    return rf


# -- the roles file --------------------------------------------------------------------------------

def test_a_roles_file_gives_roles_units_and_names(roles: access.RolesFile) -> None:
    ann = principal_for("ANN@example.org", auth="oidc", roles_file=roles)  # keys are found whatever the case
    assert ann.roles == ("viewer", "approver") and ann.units is None and ann.name == "Ann Approver"
    carl = principal_for("carl@example.org", auth="oidc", roles_file=roles)
    assert carl.grants == {"contributor": frozenset({"Clinical", "Platform"})} and carl.name == "carl@example.org"
    stranger = principal_for("eve@example.org", auth="oidc", roles_file=roles)
    assert stranger.roles == () and stranger.units == frozenset()


def test_identity_provider_groups_add_roles_by_the_configured_claim(roles: access.RolesFile) -> None:
    assert roles.groups_claim == "memberOf"
    dora = principal_for("dora@example.org", auth="oidc", groups=["clinical-team", "grc-admins", "other"],
                         roles_file=roles)
    assert dora.grants == {"contributor": frozenset({"Clinical"}), "admin": None}
    carl = principal_for("carl@example.org", auth="oidc", groups=["clinical-team"], roles_file=roles)
    assert carl.grants["contributor"] == frozenset({"Clinical", "Platform"})  # the union of both grants


def test_without_a_groups_section_the_default_groups_apply(tmp_path: Path) -> None:
    rf = access.parse_roles("users:\n  a: {roles: [viewer]}\n", tmp_path / "r.yaml")
    who = principal_for("x@example.org", auth="oidc", groups=["riskmap-admin"], roles_file=rf)
    assert who.roles == ("admin",)


@pytest.mark.parametrize(("text", "where"), [
    ("users:\n  a: {roles: [editor]}\n", "r.yaml:users.a:roles: unknown role (value 'editor'); expected viewer"),
    ("users:\n  a: {roles: []}\n", "r.yaml:users.a:roles: missing or empty"),
    ("users:\n  a: {roles: [viewer], units: []}\n", "r.yaml:users.a:units: not a list of business units"),
    ("users:\n  a: {role: [viewer]}\n", "r.yaml:users.a:role: unknown key"),
    ("users:\n  a: {roles: [viewer]}\n  A: {roles: [admin]}\n", "the key 'A' is given twice"),
    ("users: [a, b]\n", "r.yaml:users: missing or not a mapping of users"),
    ("people:\n  a: {roles: [viewer]}\n", "r.yaml:people: unknown key"),
    ("users:\n  a: {roles: [viewer], password_hash: hunter2}\n", "r.yaml:users.a:password_hash: not an argon2"),
    ("users:\n  a: {roles: [viewer]\n", "r.yaml:line 3: not valid YAML"),
    ("groups:\n  g: {roles: [boss]}\nusers: {}\n", "r.yaml:groups.g:roles: unknown role (value 'boss')"),
])
def test_a_bad_roles_file_is_refused_naming_file_key_and_value(text: str, where: str, tmp_path: Path) -> None:
    with pytest.raises(InputError) as got:
        access.parse_roles(text, "r.yaml")
    assert where in str(got.value)
    assert "hunter2" not in str(got.value)  # a wrong hash is not echoed


def test_every_problem_of_a_roles_file_is_listed_at_once() -> None:
    with pytest.raises(InputError) as got:
        access.parse_roles("users:\n  a: {roles: [editor]}\n  b: {roles: [viewer], units: 3}\n", "r.yaml")
    assert len(got.value.problems) == 2 and "no role was granted" in str(got.value)


def test_a_configured_roles_file_that_is_missing_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(access.ROLES_ENV, str(tmp_path / "nowhere.yaml"))
    with pytest.raises(ConfigError, match="nowhere.yaml: the roles file .RISKMAP_ROLES. cannot be read"):
        access.resolve("anyone")


def test_a_changed_roles_file_takes_effect_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = use_roles(monkeypatch, tmp_path, {"ann": ["admin"]})
    assert access.resolve("ann").roles == ("admin",)
    path.write_text("users:\n  ann: {roles: [viewer]}  # demoted\n", encoding="utf-8")
    assert access.resolve("ann").roles == ("viewer",)


def test_the_demo_roles_file_has_one_user_per_role() -> None:
    rf = access.load_roles(ROOT / "data" / "demo" / "roles.yaml")
    assert rf is not None and rf.has_passwords
    assert sorted(role for u in rf.users.values() for role in u.grant.roles) == sorted(access.ROLES)
    assert all(u.password_hash for u in rf.users.values())


# -- the single-user default and the command line's principal -------------------------------------

def test_without_a_roles_file_the_local_user_holds_every_role() -> None:
    who = access.local_principal()
    assert who.id == access.os_account() and who.auth == "os" and who.roles == access.ROLES and who.units is None
    assert access.resolve("someone").roles == access.ROLES  # a name given to the Python API
    assert principal_for("x@example.org", auth="oidc").roles == ()  # a sign-in needs groups or a roles file


def test_with_a_roles_file_the_local_user_holds_its_roles_only(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    use_roles(monkeypatch, tmp_path, {"someone-else": ["admin"]})
    assert access.local_principal().roles == ()
    use_roles(monkeypatch, tmp_path, {}, me={"roles": ["viewer"], "units": ["Clinical"]})
    assert access.local_principal().grants == {"viewer": frozenset({"Clinical"})}


def test_a_service_identity_must_be_in_the_roles_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(access.SERVICE_ENV, "nightly-import")
    with pytest.raises(ConfigError, match="needs a roles file"):
        access.local_principal()
    use_roles(monkeypatch, tmp_path, {"nightly-import": ["contributor"]})
    monkeypatch.setenv(access.SERVICE_ENV, "nightly-import")
    job = access.local_principal()
    assert (job.id, job.auth, job.roles) == ("nightly-import", "service", ("contributor",))
    monkeypatch.setenv(access.SERVICE_ENV, "ghost-job")
    with pytest.raises(ConfigError, match="ghost-job: not a user of the roles file"):
        access.local_principal()


# -- the role x operation table ------------------------------------------------------------------------

ROLE_MAY = {
    "viewer": {"read", "export", "query", "backup"},
    "contributor": {"read", "export", "query", "backup", "edit_risk", "edit_register", "edit_plan", "edit_soa",
                    "import", "identify_ai_risk", "undo_merge"},
    "approver": {"read", "export", "query", "backup", "approve_soa", "approve_plan", "accept_residual"},
    "admin": {"read", "export", "query", "backup", "set_matrix", "rescore", "set_depth", "edit_crosswalk",
              "manage_users", "restore"},
}


@pytest.mark.parametrize("role", access.ROLES)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_each_role_may_perform_exactly_its_operations(role: str, operation: str) -> None:
    who = Principal("p", grants={role: None})
    assert access.allowed(who, operation) == (operation in ROLE_MAY[role])


def test_a_refusal_names_who_what_and_the_role_needed() -> None:
    viewer = Principal("vic@example.org", "Vic Viewer", {"viewer": None})
    with pytest.raises(PermissionDenied) as got:
        require(viewer, "set_matrix")
    assert str(got.value) == ("Vic Viewer <vic@example.org> (viewer) may not change the risk matrix: needs the "
                              "role admin")
    assert got.value.exit_code == 77


def test_units_limit_a_role() -> None:
    carl = Principal("carl", grants={"contributor": {"Clinical"}})
    require(carl, "edit_risk", ["Clinical"])
    with pytest.raises(PermissionDenied, match="needs the role contributor for business unit Platform "
                                               r"\(held for Clinical\)"):
        require(carl, "edit_risk", ["Platform"])
    with pytest.raises(PermissionDenied, match=r"for business unit \(none\)"):
        require(carl, "edit_risk", [None])  # a risk without a unit belongs to no one unit
    with pytest.raises(PermissionDenied, match="for every business unit"):
        require(carl, "edit_soa")  # the SoA belongs to the whole organisation
    assert not access.allowed(carl, "query")  # SQL reads every unit


def test_a_risk_owner_may_approve_and_accept_their_own_risks() -> None:
    owner = Principal("priya@example.org", "Priya Raman", {"viewer": None})
    require(owner, "approve_plan", ["Clinical"], owner="priya raman")
    require(owner, "accept_residual", ["Clinical"], owner="PRIYA@example.org")
    with pytest.raises(PermissionDenied, match=r"needs the role approver \(or be the risk owner\)"):
        require(owner, "accept_residual", ["Clinical"], owner="Ben Okafor")
    with pytest.raises(PermissionDenied):
        require(owner, "edit_risk", ["Clinical"], owner="Priya Raman")  # owning is not editing
    nobody = Principal("priya@example.org", "Priya Raman")
    with pytest.raises(PermissionDenied):
        require(nobody, "approve_plan", owner="Priya Raman")  # a user with no role at all may not


def test_a_principal_is_its_stable_id_and_survives_pickling() -> None:
    who = Principal("ann@example.org", "Ann", {"approver": {"Clinical"}}, auth="oidc", email="ann@example.org")
    assert who == "ann@example.org" and isinstance(who, str)
    back = pickle.loads(pickle.dumps(who))
    assert (back.id, back.name, dict(back.grants), back.auth, back.email) == (
        who.id, who.name, dict(who.grants), who.auth, who.email)
    assert who.as_dict()["units"] == ["Clinical"]
    with pytest.raises(ValueError, match="unknown role"):
        Principal("x", grants={"superuser": None})


# -- local accounts --------------------------------------------------------------------------------

def test_a_password_is_stored_as_an_argon2_hash_and_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(ROLES_FILE, encoding="utf-8")
    monkeypatch.setenv(access.ROLES_ENV, str(path))
    secret = "correct horse battery"
    access.set_password("ann@example.org", secret, actor=ADMIN)
    text = path.read_text(encoding="utf-8")
    assert secret not in text and '    password_hash: "$argon2id$' in text
    assert "name: Ann Approver   # the CISO" in text and "# a scheduled job" in text  # the rest is kept
    ann = access.authenticate("Ann@Example.org", secret)
    assert ann.id == "ann@example.org" and ann.auth == "password" and ann.roles == ("viewer", "approver")
    with pytest.raises(PermissionDenied, match="unknown user or wrong password"):
        access.authenticate("ann@example.org", "wrong password!")
    with pytest.raises(PermissionDenied, match="unknown user or wrong password"):
        access.authenticate("carl@example.org", secret)  # no local account: the same message
    with pytest.raises(PermissionDenied, match="unknown user or wrong password"):
        access.authenticate("nobody@example.org", secret)
    first = text
    access.set_password("ann@example.org", "another long password", actor=ADMIN)  # replaces the line, adds none
    assert len(path.read_text(encoding="utf-8").splitlines()) == len(first.splitlines())
    access.set_password("nightly-import", "a job's long password", actor=ADMIN)  # a user whose block ends the file
    assert access.authenticate("nightly-import", "a job's long password").roles == ("contributor",)


def test_a_short_password_and_an_unknown_user_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    use_roles(monkeypatch, tmp_path, {"ann": ["viewer"]})
    with pytest.raises(PermissionDenied, match="ann .viewer. may not manage users"):
        access.set_password("ann", "long enough password", actor="ann")
    with pytest.raises(InputError, match="too short"):
        access.set_password("ann", "short", actor=ADMIN)
    with pytest.raises(ConfigError, match="no user 'bob'"):
        access.set_password("bob", "long enough password", actor=ADMIN)


def test_repeated_wrong_passwords_lock_the_user_out_for_a_while(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    use_roles(monkeypatch, tmp_path, {"mallory-target": ["viewer"]})
    access.set_password("mallory-target", "the real long password", actor=ADMIN)
    for _ in range(access.accounts.MAX_FAILURES):
        with pytest.raises(PermissionDenied, match="wrong password"):
            access.authenticate("mallory-target", "a guess at it!")
    with pytest.raises(PermissionDenied, match="too many wrong passwords"):
        access.authenticate("mallory-target", "the real long password")
    monkeypatch.setattr(access.accounts, "LOCKOUT_SECONDS", 0.0)
    assert access.authenticate("mallory-target", "the real long password").id == "mallory-target"
