"""The current picture a manager reads on the Overview: what each headline counts, defined once.

Every open risk counts at the score the treatment plan says it stands at today (the SQL macro
``plan_score``, column ``score_now`` of ``v_plan_residual``): its target residual score once the actions
treating it are all done, else its current score, else (no current score given) its inherent score.
:func:`current_picture` counts them and says how many stand on each basis; the lists that need the
manager's attention (overdue risk reviews, overdue actions, acceptances expired or expiring within 30
days) are audits (``engine/sql/audits``), so the Overview, ``riskmap audit`` and ``v_audit_findings``
show the same rows. :data:`DEFINITIONS` is the one wording of what each headline counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from engine import access, store
from engine.store import query

__all__ = ["ATTENTION_RULES", "DEFINITIONS", "Picture", "current_picture"]

DEFINITIONS: dict[str, str] = {
    "open_risks": "Risks not closed. Treated and accepted risks are still open: they stay in the register, "
                  "the plan and the audits until closed.",
    "above_appetite": "Open risks whose score today is above the appetite of the risk matrix version they were "
                      "scored under. The score today is the current score (likelihood x impact now); a risk "
                      "without a current score counts at its inherent score; a risk whose treatment actions "
                      "are all done counts at its target residual score, as the treatment plan expects.",
    "actions_overdue": "Treatment actions still planned or in progress after their due date.",
    "soa_decided": "Annex A controls of both standards whose applicability is decided (applicable or not "
                   "applicable), of all the controls in the Statement of Applicability.",
    "consistency_checks": "Findings of the consistency checks: records that break a rule of the register, the "
                          "plan, the SoA or the crosswalk (the Data quality page lists each rule). Errors are "
                          "what an auditor would reject; warnings need a look.",
    "reviews_overdue": "Open risks whose next review date has passed (check risk_review_overdue).",
    "acceptances": "Open risks whose recorded acceptance of residual risk has expired (check "
                   "acceptance_expired) or expires within the next 30 days (check acceptance_expiring).",
}
"""What each Overview headline counts, in the words the app shows next to it."""

ATTENTION_RULES: dict[str, tuple[str, ...]] = {
    "reviews_overdue": ("risk_review_overdue",),
    "actions_overdue": ("action_overdue",),
    "acceptances": ("acceptance_expired", "acceptance_expiring"),
}
"""The audits behind each list of the Overview's "needs attention" section."""


@dataclass(frozen=True)
class Picture:
    """The open risks as they stand today (``risks``: id, management_system, status, score, level,
    above_appetite, score_basis, current_score, target_residual_score, n_done_actions, n_open_actions) and
    the counts of the headline: ``above_appetite``, and how many risks count at each basis."""

    risks: pl.DataFrame
    above_appetite: int
    by_basis: dict[str | None, int]

    @property
    def open_risks(self) -> int:
        return self.risks.height

    def basis_text(self) -> str:
        """How many risks count at which score, e.g. '80 at their current score, 12 at their inherent
        score (no current score given), 3 at their target residual score (actions done)'."""
        words: dict[str | None, str] = {"current": "at their current score",
                 "inherent": "at their inherent score (no current score given)",
                 "residual (actions done)": "at their target residual score (treatment actions all done)",
                 None: "not scored"}
        parts = [f"{self.by_basis[k]} {w}" for k, w in words.items() if self.by_basis.get(k)]
        return ", ".join(parts) or "no open risk"


def current_picture(db: str | Path | None = None, *, today: date | None = None,
                    principal: access.Principal | str | None = None) -> Picture:
    """The open risks the principal may see, each at the score it stands at today (``plan_score``)."""
    with store.connect(db) as con:
        access.scope(con, principal)
        store.set_today(con, today)
        risks = con.execute(query.load("current_picture")).pl()
    above = int(risks["above_appetite"].fill_null(False).sum()) if risks.height else 0
    basis = {k: int(v) for k, v in risks.group_by("score_basis").len().iter_rows()} if risks.height else {}
    return Picture(risks, above, basis)
