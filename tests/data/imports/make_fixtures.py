"""Write the register import fixtures of this folder.

Each file is named after what it is: ``good_*`` files import cleanly; every other file carries the
one defect its name says (``several_problems.csv`` carries several, to check they are all reported).
Run ``python tests/data/imports/make_fixtures.py`` after changing this script; the tests check the
CSV files here are what it writes.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

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
    return files


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
    write_security_xlsx(folder / "good_security_register.xlsx")
    written.append(folder / "good_security_register.xlsx")
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
