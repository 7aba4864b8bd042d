"""The wordings registers use for each field's heading, per import kind.

Each table lists, per field, the common ways a register heads that column (``Risk ID``, ``Ref``,
``#``; ``Likelihood``, ``Probability``...). Headings are compared after :func:`normalise_heading`,
so ``Risk-Owner`` and ``risk owner`` are one wording. A wording listed for two fields of one kind is
a mistake in the table and fails as soon as this module is imported. ``headers`` decides with these tables which column
of a file holds which field.
"""

from __future__ import annotations

import re

__all__ = ["ACTION_HEADINGS", "AI_SYSTEM_HEADINGS", "ASSESSMENT_HEADINGS", "ASSET_HEADINGS", "COMPOSED_FROM",
           "HEADINGS", "IGNORE", "REQUIRED", "RISK_HEADINGS", "SOA_HEADINGS", "normalise_heading"]

IGNORE = "ignore"


def _syn(table: dict[str, str]) -> dict[str, str]:
    """Normalised wording -> field, from field -> wordings separated by ``|``."""
    out: dict[str, str] = {}
    for fld, spellings in table.items():
        for s in spellings.split("|"):
            key = normalise_heading(s)
            if key in out and out[key] != fld:
                raise AssertionError(f"heading {s!r} is listed for {out[key]} and {fld}")
            out[key] = fld
    return out


def normalise_heading(text: str) -> str:
    """Lower case, '&' as 'and', punctuation (except # and %) as spaces, single spaces."""
    t = str(text).lower().replace("&", " and ").replace("’", "'").replace("'s ", " ")
    t = re.sub(r"[^a-z0-9#%]+", " ", t)
    return " ".join(t.split())


RISK_HEADINGS = _syn({
    "source_key": "risk id|id|ref|ref no|reference|risk ref|risk reference|risk no|risk number|risk #|#|no|"
                  "number|key|risk key|identifier|risk identifier",
    "title": "title|risk|risk name|risk title|name|risk summary|summary|short description|risk statement",
    "description": "description|risk description|details|detail|risk details|narrative",
    "cause": "cause|causes|root cause|risk cause",
    "event": "event|risk event|scenario|risk scenario",
    "consequence": "consequence description|consequences description|effect|effects|outcome",
    "management_system": "management system|ms|register type|management system scope",
    "framework": "framework|standard|control framework|control standard",
    "category": "category|risk category|type|risk type|domain",
    "business_unit": "business unit|department|function|team|division|bu",
    "assets": "asset|assets|asset name|asset names|affected asset|affected assets|information asset|"
              "information assets|asset id|asset ids|assets affected|asset ref|related asset|related assets",
    "ai_systems": "ai system|ai systems|ai system name|ai model|ai system id|affected ai system|"
                  "affected ai systems|ai use case|ai systems affected",
    "threat": "threat|threats|threat source|threat event|threat description",
    "vulnerability": "vulnerability|vulnerabilities|weakness|weaknesses|vulnerability description",
    "ai_risk_sources": "risk source|risk sources|ai risk source|ai risk sources|source of risk|sources of risk",
    "cia": "cia|c i a|cia impact|cia affected|security properties|security property|properties affected",
    "confidentiality": "confidentiality|conf",
    "integrity": "integrity|integ",
    "availability": "availability|avail",
    "ai_objectives": "ai objectives|ai objective|objectives affected|objective affected|ai objectives affected|"
                     "trustworthiness|trustworthiness characteristics|objectives",
    "consequence_org": "consequence for the organisation|consequences for the organisation|business impact|"
                       "impact on the organisation|impact on organisation|organisational impact|"
                       "organizational impact|impact on the organization|impact description",
    "consequence_individuals": "consequence for individuals|consequences for individuals|impact on individuals|"
                               "impact on individuals or society|societal impact|impact on society|"
                               "individual impact|harm|harms|consequences for individuals or society|"
                               "impact on people|consequence for individuals or society|affected parties|"
                               "affected individuals|affected individuals or groups|who is affected",
    "owner": "owner|risk owner|responsible|accountable|owner name|risk owner name",
    "status": "status|risk status|state",
    "inherent_likelihood": "likelihood|probability|inherent likelihood|inherent probability|likelihood inherent|"
                           "gross likelihood|l|likelihood score|likelihood rating|probability score|"
                           "probability rating|initial likelihood",
    "inherent_impact": "impact|consequence|consequences|severity|inherent impact|inherent consequence|"
                       "inherent severity|impact inherent|gross impact|impact score|impact rating|"
                       "consequence rating|consequence score|severity rating|initial impact",
    "current_likelihood": "current likelihood|current probability|likelihood current|"
                          "likelihood with current controls|net likelihood",
    "current_impact": "current impact|current consequence|current severity|impact current|"
                      "impact with current controls|net impact",
    "residual_likelihood": "residual likelihood|residual probability|target likelihood|likelihood residual|"
                           "likelihood after treatment|post treatment likelihood",
    "residual_impact": "residual impact|residual consequence|residual severity|target impact|impact residual|"
                       "impact after treatment|post treatment impact",
    "treatment": "treatment|treatment option|risk treatment|treatment decision|response|risk response|"
                 "decision|treatment strategy|strategy",
    "treatment_notes": "treatment plan|treatment notes|treatment actions|actions|action plan|mitigation|"
                       "mitigation plan|planned actions|comments|notes|remarks",
    "controls": "controls|control|annex a controls|annex a control|iso controls|iso control|existing controls|"
                "current controls|control ref|control refs|control references|controls applied|"
                "mapped controls|control ids|annex a|iso 27001 controls|iso 42001 controls|27001 controls|"
                "42001 controls|soa reference|soa references|controls existing",
    "planned_controls": "planned controls|proposed controls|additional controls|new controls|"
                        "controls to implement|target controls|controls planned",
    "acceptance_approver": "accepted by|approver|acceptance approver|approved by|risk acceptance by",
    "acceptance_date": "acceptance date|accepted on|date accepted|approval date",
    "acceptance_expiry": "acceptance expiry|accepted until|acceptance expires|acceptance valid until|"
                         "acceptance end|expiry|acceptance expiry date",
    "acceptance_justification": "acceptance justification|justification|acceptance rationale|rationale|"
                                "reason for acceptance",
    "next_review": "review date|next review|next review date|review due|review by|next review due|"
                   "date of next review",
    # what the register computed itself: checked against the matrix, never stored (see ``checks``)
    "score_stated": "risk score|score|inherent risk score|inherent score|l x i|lxi|l i|overall score|"
                    "overall risk score|gross risk score|initial risk score",
    "rating_stated": "risk level|risk rating|rating|level|inherent risk|inherent risk level|inherent risk rating|"
                     "overall rating|overall risk|overall risk rating|gross risk|gross risk rating",
    "current_score_stated": "current risk score|current score|net risk score|net score",
    "current_rating_stated": "current risk|current risk level|current risk rating|net risk|net risk rating|"
                             "net risk level",
    "residual_score_stated": "residual risk score|residual score|target risk score|target score",
    "residual_rating_stated": "residual risk|residual risk level|residual risk rating|target risk|"
                              "target risk rating|target risk level",
    IGNORE: "priority|rag|date raised|date identified|identified on|raised on|last updated|updated|created|"
            "date added",
})
"""Risk register headings. ``I`` is impact, or integrity when the file also has ``C`` or ``A``."""

ASSET_HEADINGS = _syn({
    "id": "id|asset id|asset ref|ref|reference|asset number|asset no|key",
    "name": "name|asset|asset name|title",
    "asset_type": "type|asset type|category|asset category|class|asset class",
    "description": "description|details",
    "owner": "owner|asset owner|custodian|responsible",
    "business_unit": "business unit|department|team|function",
    "classification": "classification|information classification|sensitivity|confidentiality level",
    "location": "location|site|hosting|where",
    "status": "status|state",
})

AI_SYSTEM_HEADINGS = _syn({
    "id": "id|system id|ai system id|ref|reference|key",
    "name": "name|ai system|system|system name|ai system name|model|use case|ai use case",
    "purpose": "purpose|business purpose|objective|goal",
    "intended_use": "intended use|intended purpose|use|usage",
    "lifecycle_stage": "lifecycle stage|life cycle stage|lifecycle|life cycle|stage|phase",
    "role": "role|our role|organisation role|organization role|role of the organisation|"
            "role of the organization|ai role|roles",
    "autonomy": "autonomy|level of autonomy|automation|level of automation|decision making",
    "human_oversight": "human oversight|oversight|human in the loop|hitl",
    "data_sources": "data sources|data source|training data|data",
    "third_party_components": "third party components|third parties|suppliers|components|vendors|third party",
    "owner": "owner|system owner|ai system owner|responsible",
    "status": "status|state",
    # characteristics (yes / no / unknown) that decide which AI risk scenarios apply, and matching keys
    "processes_personal_data": "processes personal data|personal data|pii|personal information|uses personal data|"
                               "processes pii|personal data processed|contains personal data",
    "processes_sensitive_data": "processes special category data|special category data|special categories of data|"
                                "sensitive personal data|sensitive data|health data|processes health data|"
                                "processes sensitive data",
    "decides_about_people": "makes decisions about people|decisions about people|decides about people|"
                            "automated decision making|decisions about individuals|makes decisions about individuals|"
                            "informs decisions about people",
    "uses_third_party_model": "uses third party model|uses a third party model|third party model|external model|"
                              "uses external model|third party ai|third party ai service|uses foundation model|"
                              "foundation model|vendor model",
    "trained_in_house": "trained in house|in house model|model trained in house|trains own model|own model|"
                        "fine tuned in house|trained by us",
    "learns_in_operation": "learns in operation|continuous learning|continual learning|online learning|"
                           "learns from live data|self learning|retrained in operation",
    "generative": "generative|generative ai|genai|gen ai|uses generative ai|llm|large language model",
    "external_input": "external input|takes external input|untrusted input|input from outside|external content|"
                      "processes external content|user supplied content",
    "interacts_with_people": "interacts with people|user facing|customer facing|public facing|patient facing|"
                             "interacts with the public|people interact with it|conversational",
    "safety_critical": "safety critical|safety relevant|safety impact|can harm health or safety|clinical safety",
    "fully_automated": "fully automated|fully autonomous|no human review|acts without human review|"
                       "autonomous decisions",
    "affects_vulnerable_groups": "vulnerable groups|affects vulnerable groups|vulnerable people|"
                                 "vulnerable individuals|affects children|vulnerable users",
    "vendor": "vendor|supplier|model provider|vendor name|supplier name|ai vendor|service provider",
    "domains": "domain|domains|url|urls|web address|website|hostname|hostnames|host|endpoint|endpoints|"
               "service url|api endpoint",
})

ASSESSMENT_HEADINGS = _syn({
    "id": "id|assessment id|ref|reference|aia id|impact assessment id|key",
    "ai_system_id": "ai system|ai system id|system|system id|ai system name|model",
    "title": "title|assessment|name|assessment title|impact assessment",
    "affected_individuals": "affected individuals|individuals|individuals affected|impact on individuals",
    "affected_groups": "affected groups|groups|groups affected|impact on groups",
    "societal_impacts": "societal impacts|societal impact|society|impact on society|societal",
    "consequences": "consequences|consequence|potential consequences|harms",
    "severity": "severity|impact|impact level|severity level",
    "assessed_on": "date|assessed on|assessment date|date assessed|assessed",
    "assessor": "assessor|assessed by|author",
    "next_review_due": "next review|next review due|review date|review due|next review date",
    "status": "status|state",
})

SOA_HEADINGS = _syn({
    "framework": "standard|framework|iso standard|control set|control framework|management system",
    "ref": "control|control id|control ref|control reference|control no|control number|ref|reference|id|"
           "annex a|annex a control|annex a ref|annex a reference|annex a id|iso ref|iso reference|control #|#|no|"
           "clause|section|iso control|iso 27001 control|iso 42001 control",
    "title": "control title|control name|title|name|control description|annex a control title|control objective",
    "applicable": "applicable|applicability|included|include|in scope|selected|applies|relevant|included in soa|"
                  "applicable y n|applicable yes no|is applicable|soa applicability|status of applicability",
    "reasons": "reason for inclusion|reasons for inclusion|inclusion reason|inclusion reasons|reason|reasons|"
               "basis for inclusion|selection reason|source of requirement|reason for selection|driver|drivers",
    "exclusion_reason": "reason for exclusion|exclusion reason|exclusion category|exclusion type|reason excluded",
    "justification": "justification|justification for inclusion|justification for exclusion|"
                     "justification for inclusion or exclusion|justification for inclusion exclusion|rationale|"
                     "comments|comment|notes|remarks|explanation|reason for applicability",
    "status": "implementation status|status|implemented|implementation|implementation state|control status|"
              "state|progress|implementation progress|implementation stage",
    "implementation_notes": "how implemented|implementation notes|implementation details|implementation description|"
                            "how it is implemented|control implementation|description of implementation|"
                            "method of implementation|implementation method|how",
    "owner": "owner|control owner|responsible|responsible person|accountable|owner name|responsibility",
    "evidence": "evidence|evidence reference|evidence references|evidence ref|documents|documentation|"
                "supporting documents|reference documents|policy reference|policy references|records|artefacts|"
                "artifacts",
    "last_verified": "last verified|last reviewed|date verified|verified on|last review|last review date|"
                     "review date|date of last review|last audited|last tested|verified|date reviewed",
    "reason_legal": "lr|legal|legal requirement|legal requirements|legal and regulatory|regulatory|legal regulatory|"
                    "legal or regulatory",
    "reason_contractual": "co|contractual|contractual obligation|contractual obligations|contract",
    "reason_business": "br|business requirement|business requirements|business",
    "reason_business_practice": "br bp|business requirements best practice|business requirements and best practice",
    "reason_best_practice": "bp|best practice|best practices|adopted best practice|adopted best practices",
    "reason_risk": "rra|ra|risk assessment|results of risk assessment|result of risk assessment|risk treatment|"
                   "risk treatment plan|rtp|risk",
})
"""Statement of Applicability headings. ``LR``, ``CO``, ``BR/BP`` and ``RRA`` are the columns of a
common SoA layout (legal requirements, contractual obligations, business requirements / best
practice, results of the risk assessment), each marked with an X where it is a reason for inclusion."""

ACTION_HEADINGS = _syn({
    "source_key": "action id|id|ref|reference|action ref|action no|action number|#|no|key|task id|action #",
    "title": "action|title|action title|task|task name|name|action name|treatment action|activity|"
             "mitigation action|planned action",
    "description": "description|action description|details|detail|notes|comments|scope|what",
    "owner": "owner|action owner|responsible|assigned to|assignee|accountable|lead|who",
    "due_date": "due date|due|deadline|target date|completion date|due by|target completion|"
                "target completion date|planned completion|end date|date due|when|target",
    "status": "status|state|progress|action status",
    "effort": "effort|effort days|person days|man days|days|estimated effort|estimate|effort estimate|work days|"
              "effort pd|effort person days|cost days|effort in days",
    "risks": "risks|risk|risk id|risk ids|risk ref|risk refs|risk reference|risk references|related risks|"
             "linked risks|risks treated|treats risks|risk register ref|risk register refs|risks addressed",
    "controls": "controls|control|annex a controls|annex a control|iso controls|control refs|control references|"
                "controls implemented|related controls|annex a|iso 27001 controls|iso 42001 controls|"
                "27001 controls|42001 controls|control ids",
    IGNORE: "priority|start date|started|created|date raised|budget|cost",
})
"""Treatment plan headings."""

HEADINGS = {"risks": RISK_HEADINGS, "assets": ASSET_HEADINGS, "ai_systems": AI_SYSTEM_HEADINGS,
            "assessments": ASSESSMENT_HEADINGS, "soa": SOA_HEADINGS, "actions": ACTION_HEADINGS}
REQUIRED = {"risks": ("title",), "assets": ("name",), "ai_systems": ("name",),
            "assessments": ("ai_system_id", "title"), "soa": ("ref",), "actions": ("title",)}

COMPOSED_FROM = {("risks", "title"): ("event", "threat", "cause", "vulnerability", "description")}
"""Required fields a file may go without when it has one of these columns to compose them from (a
risk register in the asset / threat / vulnerability layout; see ``titles``)."""
