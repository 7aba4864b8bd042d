-- v_ai_characteristics: the characteristics of each AI system that decide which risk scenarios apply
-- (ISO 42001 6.1.2, Annex C), one row per system and characteristic (the names are those of
-- engine.register.vocab.AI_CHARACTERISTICS; a test checks that this list agrees with it).
--   value     true, false, or NULL while nobody recorded it
--   recorded  value is not NULL; a scenario resting on an unrecorded characteristic is still proposed
CREATE OR REPLACE VIEW v_ai_characteristics AS
SELECT u.ai_system_id, u.ai_system_name, u.characteristic, u.value, u.value IS NOT NULL AS recorded
FROM (SELECT id AS ai_system_id, name AS ai_system_name,
             processes_personal_data, processes_sensitive_data, decides_about_people, uses_third_party_model,
             trained_in_house, learns_in_operation, generative, external_input, interacts_with_people,
             safety_critical, fully_automated, affects_vulnerable_groups
      FROM ai_systems)
UNPIVOT INCLUDE NULLS (value FOR characteristic IN (
    processes_personal_data, processes_sensitive_data, decides_about_people, uses_third_party_model,
    trained_in_house, learns_in_operation, generative, external_input, interacts_with_people,
    safety_critical, fully_automated, affects_vulnerable_groups)) AS u;
