"""Write the register import fixtures of this folder.

Each file is named after what it is: ``good_*`` files import cleanly; every other file carries the
one defect its name says (``several_problems.csv`` carries several, to check they are all reported).
The files named after a layout (``asset_threat_vulnerability_register.csv``, ``soa_27001_2013_legacy.xlsx``,
``action_plan_register_ids.csv``...) are written the way practitioners publish registers, SoAs and
action plans, not the way riskmap would write them. Run ``python tests/data/imports/make_fixtures.py``
after changing this script; the tests check the CSV files here are what it writes.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INDEX = HERE.parents[2] / "mappings" / "reference" / "iso-control-index.csv"

SECURITY_HEADER = ["Risk Ref", "Risk Title", "Risk Description", "Asset", "Threat", "Vulnerability", "CIA",
                   "Likelihood (1-5)", "Impact (1-5)", "Risk Score", "Risk Owner",
                   "Existing Controls (ISO 27001:2013)", "Treatment", "Review Date", "Status"]
SECURITY_ROWS = [
    ["SR-01", "Ransomware on file servers", "Malware encrypts shared drives and backups", "File servers",
     "Ransomware", "Unpatched servers", "C, I, A", 4, 5, 20, "Ana Silva", "A.12.3.1, A.12.2.1", "Treat",
     "2026-06-30", "Open"],
    ["SR-02", "Phishing leads to credential theft", "Staff give their password to a fake login page", "Email",
     "Phishing", "No phishing-resistant MFA", "C", 4, 3, 12, "Ben Okafor", "A.7.2.2; A.9.4.2", "Mitigate",
     "2026-03-31", "In progress"],
    ["SR-03", "Training data leak from the ML platform", "Customer conversations used for training are exposed",
     "Customer chatbot", "Data exfiltration", "Broad access to the training bucket", "C", 3, 4, 12, "Ana Silva",
     "A.9.4.1", "Treat", "2026-09-30", "Open"],
    ["SR-04", "Loss of laptop", "A laptop with cached customer data is lost or stolen", "Laptops", "Theft",
     "Local copies of data", "C", 3, 3, 9, "Chris Wong", "A.6.2.1\nA.8.3.1", "Treat", "2026-06-30", "Open"],
    ["SR-05", "Cloud supplier outage", "The hosting provider is unavailable for a day", "", "Outage",
     "Single region", "A", 2, 4, 8, "Chris Wong", "A.15.1.1", "Accept", "2026-12-31", "Open"],
    ["SR-06", "Insufficient logging on file servers", "Incidents cannot be investigated", "File servers",
     "Undetected misuse", "Logs not kept", "I", 3, 2, 6, "Ana Silva", "A.12.4.1, A.12.4.3", "Treat",
     "2026-06-30", "Open"],
]

AI_HEADER = ["ID", "AI system", "Risk", "Description", "Risk source", "AI objectives", "Impact on individuals",
             "Likelihood", "Impact", "Controls", "Owner", "Treatment", "Status", "Next review"]
AI_ROWS = [
    ["AI-1", "Customer chatbot", "Training data leak from ML platform", "Chat logs in the training set leak",
     "Machine learning", "Privacy", "Customers", "Medium", "High", "A.7.4, A.6.2.8; ISO 27001:2022 A.8.12",
     "Dana Lee", "Mitigate", "Open", "2026-09-30"],
    ["AI-2", "Customer chatbot", "Chatbot gives harmful advice", "The chatbot invents a refund policy",
     "Level of automation", "Safety; Transparency", "Customers", "High", "High", "A.6.2.4, A.9.2", "Dana Lee",
     "Mitigate", "Open", "2026-06-30"],
    ["AI-3", "CV screening model", "Bias against older applicants", "The model ranks older applicants lower",
     "Machine learning", "Fairness", "Job applicants", "Medium", "High", "A.5.4, A.7.4", "Eva Novak", "Mitigate",
     "Open", "2026-06-30"],
    ["AI-4", "", "Staff paste confidential data into public AI tools", "Staff use unapproved chatbots",
     "Level of automation", "Privacy", "Customers", "Low", "Medium", "A.2.2", "Eva Novak", "Mitigate", "Open",
     "2026-12-31"],
]

PLAIN_HEADER = ["Risk ID", "Title", "Asset", "Likelihood", "Impact", "Owner", "Controls", "Treatment", "Status",
                "Review date"]
PLAIN_ROWS = [
    ["P-1", "Unauthorised access to the CRM", "CRM", "3", "4", "Ana Silva", "A.5.15, A.8.5", "Modify", "Open",
     "2026-06-30"],
    ["P-2", "Website defacement", "Website", "2", "3", "Ben Okafor", "A.8.9", "Modify", "Open", "2026-06-30"],
    ["P-3", "Payroll fraud", "Payroll system", "2", "5", "Chris Wong", "A.5.3", "Share", "Open", "2026-06-30"],
    ["P-4", "Server room flood", "", "1", "4", "Chris Wong", "A.7.5", "Retain", "Open", "2026-06-30"],
]


def _csv(header: list[str], rows: list[list[object]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _replace(rows: list[list[object]], row: int, col: int, value: object) -> list[list[object]]:
    out = [list(r) for r in rows]
    out[row][col] = value
    return out


def csv_files() -> dict[str, str]:
    """Every CSV fixture: file name -> content."""
    files = {
        "good_ai_register.csv": _csv(AI_HEADER, AI_ROWS),
        "good_risk_register.csv": _csv(PLAIN_HEADER, PLAIN_ROWS),
        # likelihood 'often' in data row 2 (file row 3)
        "bad_likelihood_value.csv": _csv(PLAIN_HEADER, _replace(PLAIN_ROWS, 1, 3, "often")),
        "missing_title_column.csv": _csv([h for h in PLAIN_HEADER if h != "Title"],
                                         [[v for i, v in enumerate(r) if i != 1] for r in PLAIN_ROWS]),
        # A.99.9 in data row 3 (file row 4)
        "unknown_control_ref.csv": _csv(PLAIN_HEADER, _replace(PLAIN_ROWS, 2, 6, "A.5.3, A.99.9")),
        "duplicate_column_heading.csv": _csv(PLAIN_HEADER + ["Likelihood"], [r + ["2"] for r in PLAIN_ROWS]),
        "empty.csv": "",
        # row 2: impact "extreme" (no scale has it); row 3: unknown control; row 4: no title; row 5: bad date
        "several_problems.csv": _csv(PLAIN_HEADER, [
            _replace(PLAIN_ROWS, 0, 4, "extreme")[0], _replace(PLAIN_ROWS, 1, 6, "A.5.77")[1],
            _replace(PLAIN_ROWS, 2, 1, "")[2], _replace(PLAIN_ROWS, 3, 9, "someday")[3]]),
        "custom_headings.csv": _csv(
            ["Nr", "Risk wording", "Chance", "Harm", "Annex refs", "Kept aside"],
            [["C-1", "Backup restore fails", "4", "High", "A.12.3.1", "x"],
             ["C-2", "Shadow IT subscriptions", "1", "Low", "A.8.1.1", "y"]]),
        "custom_headings_mapping.csv": _csv(["column", "field"], [
            ["Nr", "id"], ["Risk wording", "title"], ["Chance", "likelihood"], ["Harm", "impact"],
            ["Annex refs", "controls"], ["Kept aside", "ignore"]]),
        "good_assets.csv": _csv(
            ["Asset ID", "Asset", "Asset Type", "Asset Owner", "Classification"],
            [["AST-1", "File servers", "Hardware", "Chris Wong", "Internal"],
             ["AST-2", "CRM", "Software", "Ana Silva", "Confidential"],
             ["AST-3", "Laptops", "Hardware", "Chris Wong", "Internal"]]),
        "good_ai_systems.csv": _csv(
            ["System ID", "AI System", "Purpose", "Lifecycle Stage", "Our Role", "Autonomy", "Human Oversight",
             "System Owner"],
            [["AIS-1", "Customer chatbot", "Answers customer questions", "Operation", "Developer, Provider",
              "Human-on-the-loop", "Agents review flagged conversations", "Dana Lee"],
             ["AIS-2", "CV screening model", "Ranks job applications", "Verification", "User",
              "Decision support", "A recruiter reviews every ranking", "Eva Novak"]]),
        "bad_lifecycle_stage.csv": _csv(
            ["System ID", "AI System", "Lifecycle Stage"],
            [["AIS-1", "Customer chatbot", "Operation"], ["AIS-9", "Forecaster", "half-built"]]),
        "good_assessments.csv": _csv(
            ["Assessment ID", "AI System", "Title", "Affected Individuals", "Affected Groups", "Societal Impacts",
             "Consequences", "Severity", "Assessed On", "Assessor", "Next Review"],
            [["IA-2026-1", "AIS-1", "Chatbot impact assessment", "Customers", "Vulnerable customers",
              "Trust in automated service", "Wrong advice", "Medium", "2026-01-15", "Dana Lee", "2027-01-15"],
             ["IA-2026-2", "CV screening model", "Screening fairness assessment", "Applicants", "Older applicants",
              "Exclusion from work", "Discrimination", "High", "15/02/2026", "Eva Novak", "15/08/2026"]]),
        "unknown_ai_system_assessment.csv": _csv(
            ["Assessment ID", "AI System", "Title", "Severity"],
            [["IA-9", "Crystal ball", "Assessment of a system nobody has", "High"]]),
    }
    return {**files, **register_files(), **csv_files_soa(), **csv_files_actions()}


# -- risk registers as practitioners publish them -------------------------------------------------------

# The classic asset / threat / vulnerability layout: no title column, the register's own score and rating.
ATV_HEADER = ["Risk ID", "Asset", "Threat", "Vulnerability", "Likelihood", "Impact", "Risk Score", "Risk Rating",
              "Treatment", "Risk Owner"]
ATV_ROWS = [
    ["R1", "Customer Database", "Data breach", "Weak access controls", "4", "5", "20", "Critical", "Treat", "CISO"],
    ["R2", "Email", "Phishing", "No MFA on webmail", "4", "3", "12", "High", "Treat", "IT Manager"],
    ["R3", "Laptops", "Theft", "Unencrypted disks", "3", "3", "9", "High", "Treat", "IT Manager"],
    # the register's own arithmetic is wrong here (3 x 4 is 12): a warning, not a refusal
    ["R4", "Payroll system", "Insider fraud", "No segregation of duties", "3", "4", "15", "High", "Transfer", "CFO"],
    # and its rating disagrees with the matrix here (2 x 2 = 4 is Medium on the default matrix)
    ["R5", "Website", "Defacement", "Unpatched CMS", "2", "2", "4", "Low", "Accept", "Web Lead"],
    ["R6", "", "Power outage", "Single supply", "2", "4", "8", "High", "Treat", "Facilities"],
]

FREE_TEXT_HEADER = ["Ref", "Risk", "Owner", "Likelihood", "Impact", "Existing controls", "Planned controls"]
FREE_TEXT_ROWS = [
    ["FT-1", "Account takeover through phishing", "Ana Silva", "4", "4", "MFA, email filtering, awareness training",
     ""],
    ["FT-2", "Loss of customer data in an outage", "Ben Okafor", "3", "5", "Backups, access controls, logging",
     "disaster recovery plan"],
    ["FT-3", "Unauthorised access to the CRM", "Ana Silva", "3", "4", "A.8.5, MFA; A.5.15 Access control", ""],
    ["FT-4", "Data leaving through personal email", "Chris Wong", "3", "3", "Encryption at rest; DLP",
     "vendor due diligence"],
    ["FT-5", "Ransomware", "Chris Wong", "3", "5", "n/a", "patching, EDR"],
]

REFS_HEADER = ["Risk ID", "Title", "Likelihood", "Impact", "Annex A controls"]
REFS_ROWS = [
    ["AW-1", "Supplier breach", "3", "4", "A.15.1.1 A.15.2.1"],
    ["AW-2", "Undetected intrusion", "3", "4", "A.8.15 Logging A.8.16 Monitoring activities"],
    ["AW-3", "Logs tampered with", "2", "3", "12.4.1 12.4.3"],
    ["AW-4", "Stale privileged accounts", "3", "3", "ISO/IEC 27001:2013 A.9.2.3"],
    ["AW-5", "Unpatched servers", "4", "4", "27001-2013 A.12.6.1; ISO 27002:2022 8.8"],
    ["AW-6", "Weak access rules", "2", "4", "5.15, 5.18"],
    ["AW-7", "Model decisions not recorded", "3", "3", "ISO/IEC 42001 (2023) A.6.2.8"],
]


def register_files() -> dict[str, str]:
    """The practitioners' risk registers and their one-defect variants."""
    return {
        "asset_threat_vulnerability_register.csv": _csv(ATV_HEADER, ATV_ROWS),
        "nothing_to_name_a_row_by.csv": _csv(ATV_HEADER, [*ATV_ROWS[:2],
                                                          ["R9", "", "", "", "2", "2", "", "", "Accept", "CISO"]]),
        "free_text_controls_register.csv": _csv(FREE_TEXT_HEADER, FREE_TEXT_ROWS),
        "references_as_written_register.csv": _csv(REFS_HEADER, REFS_ROWS),
        "unknown_id_among_references.csv": _csv(REFS_HEADER, _replace(REFS_ROWS, 1, 4, "A.8.15 Logging A.8.99")),
    }


# -- Statements of Applicability as organisations keep them --------------------------------------------

def annex_a(framework: str) -> list[tuple[str, str]]:
    """(ref, official title) of every Annex A control of a framework, in catalog order."""
    with INDEX.open(encoding="utf-8", newline="") as fh:
        return [(r["ref"], r["title"]) for r in csv.DictReader(fh)
                if r["framework"] == framework and r["kind"] == "annex_a_control"]


_STATUS_2022 = ["Implemented", "Partially implemented", "Implemented", "Planned", "Implemented", "Not implemented"]


def soa_2022_rows() -> list[list[object]]:
    """93 rows: Yes/No applicability, two exclusions with their justification."""
    rows: list[list[object]] = []
    for i, (ref, title) in enumerate(annex_a("iso27001-2022")):
        excluded = ref in ("A.7.12", "A.8.30")
        rows.append([ref, title, "No" if excluded else "Yes",
                     "We develop no software through outsourcing" if ref == "A.8.30"
                     else "No cabling in our leased offices is ours" if ref == "A.7.12" else "Risk treatment",
                     "" if excluded else _STATUS_2022[i % len(_STATUS_2022)], "" if excluded else "Claire Donnelly",
                     "" if excluded else f"ISMS-{i:03d}", "" if excluded else "15/03/2026"])
    return rows


SOA_2022_HEADER = ["Control", "Control Title", "Applicable", "Justification", "Implementation Status", "Owner",
                   "Evidence", "Last Verified"]


def soa_both_rows() -> list[list[object]]:
    """131 rows with a Standard column, true/false applicability and the LR/CO/BR-BP/RRA marks."""
    rows: list[list[object]] = []
    for std, fw in (("ISO/IEC 27001:2022", "iso27001-2022"), ("ISO/IEC 42001:2023", "iso42001-2023")):
        for i, (ref, title) in enumerate(annex_a(fw)):
            out = fw == "iso42001-2023" and ref == "A.10.4"
            rows.append([std, ref, title, "false" if out else "true", "" if out else "X" if i % 4 == 0 else "",
                         "" if out else "X" if i % 5 == 0 else "", "" if out else "X" if i % 3 == 0 else "",
                         "" if out else "X", "We have no customers of our AI systems" if out else "",
                         "" if out else ["100%", "50%", "0%", "In progress"][i % 4]])
    return rows


SOA_BOTH_HEADER = ["Standard", "Ref", "Title", "Included", "LR", "CO", "BR/BP", "RRA", "Justification", "Progress"]


def csv_files_soa() -> dict[str, str]:
    good = soa_2022_rows()
    return {
        "soa_27001_2022_yes_no.csv": _csv(SOA_2022_HEADER, good),
        "soa_both_standards.csv": _csv(SOA_BOTH_HEADER, soa_both_rows()),
        # A.8.30 excluded with no justification
        "soa_excluded_without_justification.csv": _csv(SOA_2022_HEADER, _replace(good, 88, 3, "")),
        "soa_unknown_control.csv": _csv(SOA_2022_HEADER, [*good[:3], ["A.8.99", "Quantum readiness", "Yes",
                                                                      "", "Planned", "", "", ""]]),
        "soa_control_twice.csv": _csv(SOA_2022_HEADER, [*good[:3], good[1]]),
        "soa_bad_applicability.csv": _csv(SOA_2022_HEADER, _replace(good[:5], 2, 2, "maybe")),
    }


def write_soa_42001_xlsx(path: Path) -> None:
    """38 rows, check marks for applicability, exclusion reasons in words, statuses in words."""
    import polars as pl

    statuses = ["In place", "In progress", "Not started", "Fully implemented"]
    rows = [{"Annex A Ref": ref, "Control Name": title, "Applicable?": "✗" if ref == "A.10.4" else "✓",
             "Reason for Exclusion": "We have no customers of our AI systems" if ref == "A.10.4" else None,
             "Implementation": None if ref == "A.10.4" else statuses[i % 4],
             "Control Owner": "Priya Raman"} for i, (ref, title) in enumerate(annex_a("iso42001-2023"))]
    pl.DataFrame(rows).write_excel(path, worksheet="SoA 42001", autofit=True)


def write_soa_2013_xlsx(path: Path) -> None:
    """A 27001:2013 SoA (114 rows) as a certified organisation kept it: Y/N, its own justifications."""
    import polars as pl

    rows = []
    for i, (ref, title) in enumerate(annex_a("iso27001-2013")):
        applicable = ref not in ("A.12.4.2", "A.14.2.7")
        status = {"A.12.4.1": "Implemented", "A.12.4.3": "Partially implemented"}.get(
            ref, ["Implemented", "Partially implemented", "Planned"][i % 3])
        rows.append({"Control": ref, "Control Objective": title, "Applicable (Y/N)": "Y" if applicable else "N",
                     "Justification": f"{title} is needed for our risks" if applicable
                     else "Log protection is provided by the SIEM service" if ref == "A.12.4.2"
                     else "No outsourced development", "Status": status if applicable else None,
                     "Evidence": f"EV-{i:03d}" if applicable else None})
    pl.DataFrame(rows).write_excel(path, worksheet="Statement of Applicability", autofit=True)


# -- action plans ---------------------------------------------------------------------------------------

ACTIONS_HEADER = ["Action ID", "Action", "Owner", "Due Date", "Status", "Effort (days)", "Risks",
                  "ISO 27001:2022 Controls", "ISO 42001 Controls"]
ACTIONS_ROWS = [
    ["ACT-1", "Enforce MFA on the CRM", "Ana Silva", "2026-09-30", "In progress", "5", "P-1", "A.8.5, A.5.17", ""],
    ["ACT-2", "Web application firewall for the website", "Ben Okafor", "30/11/2026", "Not started", "3 weeks", "P-2",
     "A.8.20", ""],
    ["ACT-3", "Dual approval of payroll changes", "Chris Wong", "2026-06-30", "Complete", "20h", "P-3; P-1", "A.5.3",
     ""],
    ["ACT-4", "Record the chatbot's decisions", "Dana Lee", "2026-12-31", "Planned", "8", "AI-2",
     "27001:2013 A.12.4.1", "A.6.2.8"],
]


def csv_files_actions() -> dict[str, str]:
    return {
        "action_plan_register_ids.csv": _csv(ACTIONS_HEADER, ACTIONS_ROWS),
        "action_plan_unknown_risk.csv": _csv(ACTIONS_HEADER, _replace(ACTIONS_ROWS, 1, 6, "P-2; P-77")),
        "action_plan_control_in_words.csv": _csv(ACTIONS_HEADER, _replace(ACTIONS_ROWS, 0, 7, "A.8.5, MFA")),
    }


def write_actions_xlsx(path: Path) -> None:
    """A plan in another team's words: Task, Assigned to, Deadline, Progress, Estimate, Related risks."""
    import polars as pl

    pl.DataFrame([
        {"Task": "Quarterly access reviews", "Assigned to": "Ana Silva", "Deadline": "2026-10-31",
         "Progress": "Ongoing", "Estimate": "2 weeks", "Related risks": "R-0001",
         "Controls": "A.5.18 Access rights, 42001 A.3.2"},
        {"Task": "Patch the web server monthly", "Assigned to": "Ben Okafor", "Deadline": "2026-07-31",
         "Progress": "Done", "Estimate": "4", "Related risks": "R-0002", "Controls": "A.8.8"},
    ]).write_excel(path, worksheet="Plan", autofit=True)


MAPPING_YAML = """\
# Headings of custom_headings.csv that riskmap does not know, and how to read them.
columns:
  Nr: id
  Risk wording: title
  Chance: likelihood
  Harm: impact
  Annex refs: controls
  Kept aside: ignore
framework: iso27001-2013
management_system: ISMS
scales:
  likelihood: 1-4
  impact: low-medium-high
"""


def write_security_xlsx(path: Path) -> None:
    """The security register as teams keep it in Excel: 1-5 scores, 27001:2013 control references."""
    import polars as pl

    frame = pl.DataFrame([dict(zip(SECURITY_HEADER, [str(v) if i in (7, 8, 9) else v for i, v in enumerate(r)],
                                   strict=True)) for r in SECURITY_ROWS], infer_schema_length=None)
    frame = frame.with_columns(pl.col("Likelihood (1-5)", "Impact (1-5)", "Risk Score").cast(pl.Int64),
                               pl.col("Review Date").str.to_date())
    frame.write_excel(path, worksheet="Risk Register", autofit=True)


def main(folder: Path = HERE) -> list[Path]:
    written = []
    for name, text in csv_files().items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    (folder / "custom_headings_mapping.yaml").write_text(MAPPING_YAML, encoding="utf-8")
    written.append(folder / "custom_headings_mapping.yaml")
    for name, write in (("good_security_register.xlsx", write_security_xlsx),
                        ("soa_42001_included_excluded.xlsx", write_soa_42001_xlsx),
                        ("soa_27001_2013_legacy.xlsx", write_soa_2013_xlsx),
                        ("action_plan_other_wordings.xlsx", write_actions_xlsx)):
        write(folder / name)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
