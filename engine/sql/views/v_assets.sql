-- v_assets: the asset inventory (ISO 27001 A.5.9), one row per asset with the risks that name it.
CREATE OR REPLACE VIEW v_assets AS
WITH rk AS (
    SELECT asset_id, count(*) AS n_risks, list(risk_id ORDER BY risk_id) AS risk_ids
    FROM risk_assets
    GROUP BY asset_id
)
SELECT a.id, a.name, a.asset_type, a.description, a.owner, a.business_unit, a.classification, a.location,
       a.status, coalesce(rk.n_risks, 0) AS n_risks, coalesce(rk.risk_ids, []::VARCHAR[]) AS risk_ids,
       a.version
FROM assets a
LEFT JOIN rk ON rk.asset_id = a.id;
