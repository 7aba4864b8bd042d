-- current_picture: every open risk as the Overview counts it today (engine.plan.picture): the score it
-- counts at with the work done so far (plan_score, column score_now of v_plan_residual), its level, whether
-- it is above appetite, and which score that is (score_basis: residual (actions done), current, inherent).
-- Risks of the business units the session may see only (v_plan_residual applies unit_visible).
SELECT risk_id AS id, management_system, status, score_now AS score, score_now_level AS level,
       above_appetite_score_now AS above_appetite, score_basis, current_score, target_residual_score,
       n_done_actions, n_open_actions
FROM v_plan_residual
ORDER BY risk_id
