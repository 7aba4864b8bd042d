"""The app under AppTest with sign-in: OpenID Connect users with their groups' roles, local accounts, an
expired session, a user without a role; a viewer sees no edit controls, and the engine refuses the
viewer's edit when the request is crafted anyway."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from engine import access
from tests.access_support import write_roles
from tests.reliability.dbstate import db_state
from tests.test_app_pages import (
    APP,
    TITLES,
    assert_healthy,
    db_value,
    demo_db,
    demo_template,
    edit_cells,
    unescaped,
)

__all__ = ["demo_db", "demo_template"]  # fixtures

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-cookie-secret",
                 "client_id": "riskmap", "client_secret": "secret",
                 "server_metadata_url": "http://localhost:9/.well-known/openid-configuration"}}
VIEWER = {"email": "vera.osei@northwind.example", "name": "Vera Osei", "groups": ["riskmap-viewer"]}
CONTRIBUTOR = {"email": "carl@northwind.example", "name": "Carl", "groups": ["riskmap-contributor"]}


def signed_in(page: str, user: dict[str, Any] | None, *, issued: float | None = None) -> AppTest:
    """The app with [auth] configured and ``user`` signed in (None: signed out), switched to ``page``."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets.update(AUTH)
    at.user = {"is_logged_in": False} if user is None else {
        "is_logged_in": True, "sub": user["email"], "iat": int(issued or time.time()), **user}
    at.run()
    if page != "overview" and user is not None:
        at.switch_page(f"ui/{page}.py").run()
    return at


def buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def test_signed_out_the_app_shows_only_the_sign_in(demo_db: Path) -> None:
    at = signed_in("overview", None)
    assert_healthy(at)
    assert [t.value for t in at.title] == ["Sign in to riskmap"]
    assert "Sign in" in buttons(at) and not at.dataframe and not at.metric


def test_a_signed_in_user_sees_their_name_and_roles_from_groups(demo_db: Path) -> None:
    at = signed_in("overview", CONTRIBUTOR)
    assert_healthy(at)
    assert at.title[0].value == TITLES["overview"]
    assert any(unescaped(c.value).startswith("Signed in as Carl (carl@northwind.example)") for c in at.sidebar.caption)
    assert "Sign out" in [b.label for b in at.sidebar.button]
    assert not any("without sign-in" in unescaped(w.value) for w in at.warning)


def test_a_sign_in_older_than_the_session_lifetime_is_refused(demo_db: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKMAP_SESSION_HOURS", "1")
    at = signed_in("overview", CONTRIBUTOR, issued=time.time() - 2 * 3600)
    assert [t.value for t in at.title] == ["Sign in to riskmap"]
    assert any("session has expired" in unescaped(m.value) for m in at.markdown)
    assert "Sign in again" in buttons(at) and not at.metric


def test_a_user_without_a_role_has_no_access(demo_db: Path) -> None:
    at = signed_in("overview", {"email": "eve@example.org", "name": "Eve", "groups": ["other-team"]})
    assert [t.value for t in at.title] == ["No access"]
    assert "gives you no role" in unescaped(at.error[0].value) and not at.metric


@pytest.mark.parametrize("page", ["register", "ai_systems", "treatment", "soa"])
def test_a_viewer_sees_no_edit_controls(demo_db: Path, page: str) -> None:
    at = signed_in(page, VIEWER)
    assert_healthy(at)
    assert at.title[0].value == TITLES[page]
    editable = [d for d in at.dataframe if d.editing_mode != "read_only"]
    assert editable == [], f"{page}: an editable table for a viewer"
    labels = buttons(at)
    for forbidden in ("Save changes", "Accept selected", "Reject selected", "Record approval",
                      "Record acceptance", "Approve the working copy as a new version"):
        assert forbidden not in labels, (page, forbidden)
    assert not [f for f in at.get("form")], f"{page}: a form a viewer cannot use"


def test_a_viewer_is_offered_neither_import_nor_sql(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = signed_in("overview", VIEWER)
    with pytest.raises(ValueError, match="Could not find a navigation page for .*imports.py"):
        at.switch_page("ui/imports.py")  # not among the pages the navigation offers a viewer
    at.switch_page("ui/sql.py").run()  # a viewer of every unit may query
    assert_healthy(at)
    assert at.get("text_area")
    roles = demo_db.parent / "roles.yaml"
    roles.write_text("groups:\n  clinical-viewers: {roles: [viewer], units: [Clinical]}\nusers: {}\n")
    monkeypatch.setenv("RISKMAP_ROLES", str(roles))
    at = signed_in("overview", {**VIEWER, "email": "val@northwind.example", "groups": ["clinical-viewers"]})
    with pytest.raises(ValueError, match="Could not find a navigation page for .*sql.py"):
        at.switch_page("ui/sql.py")  # SQL reads every unit: not for a viewer of one


def test_a_unit_viewer_sees_its_units_risks_only(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roles = demo_db.parent / "roles.yaml"
    roles.write_text("groups:\n  clinical-viewers: {roles: [viewer], units: [Clinical]}\nusers: {}\n")
    monkeypatch.setenv("RISKMAP_ROLES", str(roles))
    at = signed_in("register", {**VIEWER, "email": "val@northwind.example", "groups": ["clinical-viewers"]})
    assert_healthy(at)
    shown = next(d.value for d in at.dataframe if "id" in d.value.columns and "title" in d.value.columns)
    clinical = db_value(demo_db, "SELECT count(*) FROM risks WHERE business_unit = 'Clinical' AND status <> 'closed'")
    assert 0 < len(shown) == clinical < db_value(demo_db, "SELECT count(*) FROM risks WHERE status <> 'closed'")
    units = {db_value(demo_db, "SELECT business_unit FROM risks WHERE id = ?", [rid]) for rid in shown["id"]}
    assert units == {"Clinical"}


def _crafted_save() -> None:
    """A viewer's browser posts an edit anyway: the edit reaches the page's save path (the editor forced on)."""
    from engine import access, register
    from engine.register import browse
    from ui import common

    who = access.Principal("vera.osei@northwind.example", "Vera Osei", {"viewer": None}, auth="oidc")
    common.set_principal(who)
    rows = browse.register_page(common.db_path(), principal=who, limit=5).rows.select("id", "owner", "version")
    common.versioned_editor(
        rows, name="register", id_col="id", editable=["owner"], noun="risk", allowed=True,
        save=lambda rid, version, changes: register.update_risk(common.db_path(), rid, changes, version,
                                                                actor=common.principal(), channel=common.CHANNEL))


def test_the_engine_refuses_a_viewers_crafted_edit(demo_db: Path) -> None:
    at = AppTest.from_function(_crafted_save, default_timeout=30).run()
    assert_healthy(at)
    before = db_state(demo_db)
    at = edit_cells(at, "register_editor", {0: {"owner": "Mallory"}})
    at.button(key="register_save").click().run()
    assert_healthy(at)
    messages = [unescaped(e.value) for e in at.error]
    assert any("Not allowed: Vera Osei <vera.osei@northwind.example> (viewer) may not edit risks" in m
               and "needs the role contributor" in m for m in messages), messages
    assert db_state(demo_db) == before
    assert db_value(demo_db, "SELECT count(*) FROM risks WHERE owner = 'Mallory'") == 0


def test_a_local_account_signs_in_with_its_password(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roles = write_roles(demo_db.parent / "roles.yaml", {"ann@example.org": {"name": "Ann", "roles": ["approver"]}})
    monkeypatch.setenv("RISKMAP_ROLES", str(roles))
    access.set_password("ann@example.org", "ann's long password", actor=access.Principal.everything("t", auth="api"))
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert [t.value for t in at.title] == ["Sign in to riskmap"]
    at.text_input(key="sign_in_user").input("ann@example.org")
    at.text_input(key="sign_in_password").input("not the password")
    at.button(key="FormSubmitter:sign_in_form-Sign in").click().run()
    assert any("unknown user or wrong password" in unescaped(e.value) for e in at.error)
    at.text_input(key="sign_in_password").input("ann's long password")
    at.button(key="FormSubmitter:sign_in_form-Sign in").click().run()
    assert_healthy(at)
    assert at.title[0].value == TITLES["overview"]
    assert any(unescaped(c.value).startswith("Signed in as Ann (ann@example.org)") for c in at.sidebar.caption)
    assert "sign_in_password" not in at.session_state  # the password is not kept once checked
    at.sidebar.button(key="sign_out").click().run()
    assert [t.value for t in at.title] == ["Sign in to riskmap"]
