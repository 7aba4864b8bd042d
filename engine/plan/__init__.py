"""The risk treatment plan (ISO 27001 6.1.3 e-f, ISO 42001 6.1.3 g): one plan for both management systems.

An action has an owner, a due date, a status and an effort (person-days); it lists the risks it treats and
the controls it implements in either standard. The plan is ranked "do once, satisfy both"
(:func:`ranking`, view ``v_treatment_plan``): by expected risk reduction and by controls satisfied across
the two standards, each per unit of effort. :func:`residual_after_plan` (view ``v_plan_residual``) shows
each risk's residual level once the plan is done. Risk owners' approval of the plan (:func:`approve_plan`)
and their acceptance of residual risk (:func:`accept_residual`) are recorded with who, when and expiry.
:func:`current_picture` counts the open risks as they stand today, done actions applied (the Overview).
"""

from __future__ import annotations

from .actions import (
    ACTION_STATUSES,
    add_action,
    link_control,
    link_risk,
    unlink_control,
    unlink_risk,
    update_action,
)
from .approvals import accept_residual, acceptances, approvals, approve_plan, ranking, residual_after_plan
from .importing import import_actions
from .picture import DEFINITIONS, Picture, current_picture

__all__ = ["ACTION_STATUSES", "DEFINITIONS", "Picture", "accept_residual", "acceptances", "add_action", "approvals",
           "approve_plan", "current_picture", "import_actions", "link_control", "link_risk", "ranking", "residual_after_plan", "unlink_control", "unlink_risk", "update_action"]
