"""Write Northwind Health's legacy information security risk register as an Excel workbook.

The register is kept as ``security-risk-register.xlsx`` the way the security team has kept it since
their ISO/IEC 27001:2013 certification: one row per risk, 1-5 likelihood and impact, a score and a
rating the team computes, and existing controls written as people write them ("A.12.4.1, A.12.4.3",
"ISO 27001:2013 A.9.2.3"). The workbook is binary, so its content lives here and this script
regenerates it:

    .venv/bin/python data/demo/build_files.py

The other demo files (assets, AI systems, impact assessments, the AI risk register, actions and SoA
decisions) are CSV text kept next to it and edited directly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
from xlsxwriter import Workbook

HERE = Path(__file__).resolve().parent
XLSX = HERE / "security-risk-register.xlsx"
SHEET = "Risk Register"

COLUMNS = [
    "Risk Ref", "Date Raised", "Risk Title", "Risk Description", "Asset", "Threat", "Vulnerability", "CIA",
    "Likelihood (1-5)", "Impact (1-5)", "Risk Score", "Risk Rating", "Target Likelihood (1-5)", "Target Impact (1-5)",
    "Risk Owner", "Business Unit",
    "Existing Controls (ISO 27001:2013)", "Treatment", "Treatment Notes", "Accepted By", "Acceptance Date",
    "Acceptance Expiry", "Review Date", "Status",
]

# Risk Ref, Date Raised, Risk Title, Risk Description, Asset, Threat, Vulnerability, CIA, L, I, Owner,
# Existing Controls (ISO 27001:2013), Treatment, Treatment Notes, Review Date, Status
RISKS: list[tuple[str, str, str, str, str, str, str, str, int, int, str, str, str, str, str, str]] = [
    ("ISR-001", "2019-03-11", "Ransomware on corporate estate",
     "Ransomware delivered by phishing or a drive-by download encrypts laptops and shared drives and halts "
     "day-to-day operations for several days.",
     "Staff laptops", "Ransomware (organised crime)",
     "Users can run unsigned executables; laptop patching lags by up to six weeks", "C, I, A", 3, 5,
     "Gareth Lewis", "A.12.2.1, A.12.3.1, A.7.2.2", "Treat",
     "EDR rolled out to 95% of laptops; application allow-listing planned for FY27", "2026-03-31", "Open"),
    ("ISR-002", "2019-03-11", "Phishing and credential theft",
     "Staff credentials harvested through phishing are used to read mailboxes and send fraudulent email.",
     "Email and collaboration suite", "Phishing",
     "MFA not enforced for legacy mail protocols; some shared mailboxes without MFA", "C, I", 4, 3,
     "Claire Donnelly", "A.9.4.2; A.7.2.2", "Treat",
     "Phishing-resistant MFA project (see action list)", "2026-06-30", "In Treatment"),
    ("ISR-003", "2019-03-11", "Unauthorised access to patient data by staff",
     "Engineers with standing production database access can view identifiable patient triage records "
     "without a business need.",
     "Patient Data Platform", "Insider misuse", "Standing privileged access; no session recording",
     "C", 3, 5, "Kwame Asante", "ISO 27001:2013 A.9.2.3, A.9.2.5, A.12.4.3", "Treat",
     "Quarterly access reviews in place; just-in-time access not yet implemented", "2026-03-31", "Open"),
    ("ISR-004", "2019-03-11", "Loss of production database",
     "Corruption or deletion of the Patient Data Platform without a recoverable backup.",
     "Patient Data Platform", "Operator error; malicious deletion",
     "Backups held in the same AWS account; restores not tested regularly", "I, A", 2, 5, "Ben Okafor",
     "A.12.3.1, A.17.1.2, A.17.1.3", "Treat", "Cross-account immutable backups delivered Q2 2026",
     "2026-09-30", "In Treatment"),
    ("ISR-005", "2019-06-04", "AWS root account compromise",
     "An attacker takes over the AWS organisation root account and deletes or exfiltrates production data.",
     "AWS production account", "Account takeover", "Root credentials known to three people; hardware MFA "
     "not on every management account", "C, I, A", 2, 5, "Ben Okafor", "A.9.2.3; A.9.4.3; A.10.1.2",
     "Treat", "Root credentials moved to sealed break-glass procedure", "2026-03-31", "Open"),
    ("ISR-006", "2019-06-04", "Misconfigured storage bucket exposes data",
     "An object storage bucket holding exports or logs is made public by mistake and patient data is "
     "indexed or downloaded.",
     "AWS production account", "Misconfiguration", "No organisation-wide guardrail preventing public buckets",
     "C", 3, 5, "Ben Okafor", "A.14.2.5, A.13.1.1, A.18.1.4", "Treat",
     "Service control policies drafted", "2026-03-31", "Open"),
    ("ISR-007", "2019-06-04", "Unpatched vulnerabilities in container images",
     "Known vulnerabilities in base images and libraries are exploited on internet-facing services.",
     "Production Kubernetes cluster", "Exploitation of known vulnerabilities",
     "No image scanning gate; patch SLA not defined for containers", "C, I, A", 4, 4, "Ben Okafor",
     "A.12.6.1, A.14.2.2", "Treat", "", "2026-03-31", "Open"),
    ("ISR-008", "2020-01-20", "Compromise of build pipeline",
     "An attacker injects malicious code through a compromised build runner, deployment key or third-party "
     "dependency and it is shipped to customers.",
     "CI/CD pipelines", "Software supply chain attack",
     "Long-lived deployment keys; unpinned dependencies; unsigned artefacts", "C, I", 3, 5, "Ben Okafor",
     "A.14.2.6, A.12.5.1, A.15.1.3", "Treat", "", "2026-06-30", "Open"),
    ("ISR-009", "2020-01-20", "Secrets committed to source code",
     "API keys and database passwords committed to repositories are found by an attacker or a former "
     "contractor.",
     "Source code repositories", "Credential exposure", "No secret scanning; secrets shared in .env files",
     "C", 3, 4, "Lucy Chen", "A.9.4.5, A.10.1.2", "Treat", "Secret scanning enabled on all repositories",
     "2026-06-30", "In Treatment"),
    ("ISR-010", "2019-03-11", "Loss or theft of laptop",
     "A laptop holding cached patient or customer data is lost or stolen while travelling.",
     "Staff laptops", "Theft; loss", "Disk encryption not verified on contractor devices", "C", 4, 3,
     "Gareth Lewis", "A.6.2.1, A.8.3.1, A.10.1.1, A.11.2.6", "Treat",
     "Compliance policy blocks unencrypted devices from SSO", "2026-03-31", "Open"),
    ("ISR-011", "2019-03-11", "Loss of mobile phone with email access",
     "A phone with email and chat access is lost and messages containing customer details are read.",
     "Mobile phones", "Loss; theft", "Personal phones enrolled with app protection only", "C", 4, 2,
     "Gareth Lewis", "A.6.2.1", "Tolerate", "Remote wipe of work apps available", "2026-03-31", "Accepted"),
    ("ISR-012", "2020-05-14", "Interception or tampering of EHR messages",
     "HL7 and FHIR messages between customer EHR systems and TriageAssist are intercepted or altered in "
     "transit.",
     "EHR integration gateway", "Man-in-the-middle", "Some legacy customer endpoints only support site-to-site "
     "VPN with weak ciphers", "C, I", 2, 5, "Ben Okafor", "A.13.1.1, A.13.2.1, A.14.1.3", "Treat", "",
     "2026-06-30", "Open"),
    ("ISR-013", "2020-05-14", "Denial of service on TriageAssist",
     "A volumetric or application-layer denial of service attack makes TriageAssist unavailable to clinics.",
     "TriageAssist web application", "Denial of service", "Single region; limited rate limiting",
     "A", 3, 4, "Ben Okafor", "A.13.1.2, A.17.2.1", "Transfer",
     "DDoS protection service contracted with CDN provider", "2026-09-30", "Open"),
    ("ISR-014", "2019-06-04", "Insufficient logging to investigate incidents",
     "Application and administrator activity is not logged or retained long enough to investigate an incident "
     "or a customer complaint.",
     "Logging and SIEM platform", "Undetected compromise", "Application logs kept 14 days; admin actions in "
     "some SaaS tools not logged", "C, I", 3, 4, "Claire Donnelly", "A.12.4.1, A.12.4.3", "Treat", "",
     "2026-03-31", "Open"),
    ("ISR-015", "2019-06-04", "Tampering with security logs",
     "A privileged user alters or deletes logs to hide their activity.",
     "Logging and SIEM platform", "Insider misuse", "Log platform admins are also cloud admins", "I", 2, 3,
     "Claire Donnelly", "A.12.4.2", "Treat", "", "2026-09-30", "Open"),
    ("ISR-016", "2019-03-11", "Leavers keep access",
     "Accounts of leavers and role changers stay active because HR and IT processes are manual.",
     "Single sign-on (identity provider)", "Unauthorised access by former staff",
     "Manual leaver notification from HR; no periodic reconciliation", "C, I", 4, 3, "Gareth Lewis",
     "A.9.2.1, A.9.2.6, A.7.3.1", "Treat", "", "2026-03-31", "Open"),
    ("ISR-017", "2019-03-11", "Weak passwords on service accounts",
     "Service and shared accounts use weak or never-rotated passwords that can be guessed or reused.",
     "Single sign-on (identity provider)", "Password attack", "Service accounts exempt from password policy",
     "C, I", 3, 4, "Gareth Lewis", "A.9.2.4; A.9.3.1; A.9.4.3", "Treat", "", "2026-06-30", "Open"),
    ("ISR-018", "2021-02-08", "Identity provider outage",
     "An outage at the SSO provider prevents staff from reaching any business application.",
     "Single sign-on (identity provider)", "Supplier outage", "No break-glass accounts for key SaaS tools",
     "A", 2, 4, "Gareth Lewis", "A.17.2.1, A.15.2.1", "Tolerate",
     "Provider SLA 99.99%; break-glass accounts for AWS only", "2026-09-30", "Accepted"),
    ("ISR-019", "2021-02-08", "Breach at support platform provider",
     "The third-party support platform is breached and customer conversations are exposed.",
     "HelioDesk support platform", "Supplier compromise", "Supplier assurance limited to a questionnaire",
     "C", 3, 4, "Marcus Reid", "A.15.1.1, A.15.1.2, A.15.2.1", "Treat", "", "2026-06-30", "Open"),
    ("ISR-020", "2021-02-08", "Patient data in support tickets and recordings",
     "Clinic staff paste patient details into tickets and read them out on calls; the data is kept "
     "indefinitely and visible to every agent.",
     "Support tickets and call recordings", "Unauthorised disclosure",
     "No redaction; no retention limit on tickets or recordings", "C", 4, 4, "Marcus Reid",
     "A.8.2.3, A.18.1.4, A.18.1.3", "Treat", "", "2026-03-31", "Open"),
    ("ISR-021", "2020-09-01", "Customer data taken by departing sales staff",
     "Departing sales staff export customer contacts and contract terms from the CRM.",
     "CRM and customer contracts", "Insider data theft", "Any user can export full reports", "C", 3, 3,
     "Jonathan Pike", "A.8.1.3, A.13.2.4, A.7.3.1", "Treat", "", "2026-06-30", "Open"),
    ("ISR-022", "2020-09-01", "Invoice fraud through business email compromise",
     "A compromised supplier mailbox sends changed bank details and a payment is made to the fraudster.",
     "Finance system", "Business email compromise", "Bank detail changes confirmed by email only",
     "I", 3, 4, "Oliver Grant", "A.7.2.2, A.13.2.3", "Treat",
     "Call-back verification introduced for bank detail changes", "2026-03-31", "In Treatment"),
    ("ISR-023", "2019-03-11", "Exposure of HR records",
     "Employee records including salaries and health information are seen by staff without need.",
     "Employee and payroll records", "Unauthorised disclosure", "Broad HR folder permissions", "C", 2, 4,
     "Sophie Turner", "A.8.2.1, A.9.1.1, A.18.1.4", "Treat", "", "2026-06-30", "Open"),
    ("ISR-024", "2021-02-08", "HR system supplier fails to protect employee data",
     "The HR SaaS supplier suffers a breach affecting employee records.",
     "HR information system", "Supplier compromise", "Limited contractual audit rights", "C", 2, 3,
     "Sophie Turner", "A.15.1.2, A.15.2.1", "Tolerate", "Supplier holds ISO 27001 certificate",
     "2026-09-30", "Accepted"),
    ("ISR-025", "2022-04-19", "Backups deleted by attacker",
     "An attacker with administrator access deletes backups before encrypting or destroying production data.",
     "Backup vault", "Ransomware; sabotage", "Backup deletion possible with the same admin role", "A", 2, 5,
     "Ben Okafor", "A.12.3.1", "Treat", "Vault lock enabled on new vault", "2026-09-30", "In Treatment"),
    ("ISR-026", "2022-04-19", "Restore fails to meet recovery objectives",
     "A full restore of production takes longer than the four-hour recovery time objective agreed with "
     "customers.",
     "Backup vault", "Major outage", "Restore runbook untested since 2023", "A", 3, 4, "Ben Okafor",
     "A.17.1.3, A.12.3.1", "Treat", "", "2026-09-30", "Open"),
    ("ISR-027", "2019-03-11", "Break-in at Leeds office",
     "Intruders enter the Leeds office out of hours and steal equipment or paper records.",
     "Leeds head office", "Burglary", "Shared building reception; alarm not monitored at weekends",
     "C, A", 2, 3, "Dave Whitfield", "A.11.1.1, A.11.1.2, A.11.1.3", "Tolerate",
     "Landlord provides 24x7 CCTV", "2026-09-30", "Accepted"),
    ("ISR-028", "2019-03-11", "Tailgating into office",
     "Visitors or intruders follow staff through controlled doors.",
     "Leeds head office", "Unauthorised physical access", "Staff hold doors open; no turnstiles", "C", 3, 2,
     "Dave Whitfield", "A.11.1.2", "Tolerate", "", "2026-09-30", "Accepted"),
    ("ISR-029", "2020-01-20", "Flat office network",
     "A compromised device on the office network, including guest Wi-Fi, can reach internal services.",
     "Leeds office network", "Lateral movement", "Guest and staff Wi-Fi share a VLAN", "C, I", 3, 3,
     "Gareth Lewis", "A.13.1.3, A.13.1.1", "Treat", "", "2026-06-30", "Open"),
    ("ISR-030", "2019-03-11", "Power or cooling failure in comms room",
     "Loss of power or cooling in the office comms room takes down office connectivity.",
     "Leeds office network", "Environmental failure", "Single UPS; no temperature alerting", "A", 2, 2,
     "Dave Whitfield", "A.11.2.2, A.11.2.1", "Tolerate", "Production is cloud hosted", "2026-09-30",
     "Accepted"),
    ("ISR-031", "2019-03-11", "Printed patient information left on desks",
     "Printed clinical review packs with patient extracts are left on desks and in printers.",
     "Paper records archive", "Unauthorised disclosure", "Clear desk policy not enforced", "C", 3, 3,
     "Dave Whitfield", "A.11.2.9, A.8.2.3", "Treat", "", "2026-03-31", "Open"),
    ("ISR-032", "2019-03-11", "Paper records disposed of insecurely",
     "Paper records are put in general waste instead of confidential shredding.",
     "Paper records archive", "Unauthorised disclosure", "Too few confidential waste bins", "C", 2, 3,
     "Dave Whitfield", "A.8.3.2, A.11.2.7", "Treat", "", "2026-09-30", "Open"),
    ("ISR-033", "2019-06-04", "Insecure development practices",
     "Vulnerabilities such as injection or broken access control are introduced in TriageAssist code.",
     "TriageAssist web application", "Exploitation of application flaws",
     "No static analysis in pipeline; secure coding training not mandatory", "C, I, A", 4, 4, "Ben Okafor",
     "A.14.2.1, A.14.2.5, A.14.2.8", "Treat", "", "2026-03-31", "Open"),
    ("ISR-034", "2020-05-14", "Production data used in test environments",
     "Copies of production patient data are restored into staging to reproduce bugs.",
     "Patient Data Platform", "Unauthorised disclosure", "No synthetic data; staging less protected",
     "C", 3, 5, "Kwame Asante", "A.14.3.1, A.12.1.4", "Treat", "", "2026-03-31", "Open"),
    ("ISR-035", "2020-05-14", "Unreviewed changes to production",
     "Emergency changes are applied directly to production without review and break the service.",
     "Production Kubernetes cluster", "Faulty change", "Cluster admin rights held by all platform engineers",
     "I, A", 3, 4, "Ben Okafor", "A.12.1.2, A.14.2.2", "Treat", "", "2026-06-30", "Open"),
    ("ISR-036", "2021-10-05", "Capacity exhaustion at winter peak",
     "Demand during the winter peak exceeds capacity and triage requests time out.",
     "TriageAssist web application", "Capacity shortfall", "Autoscaling limits set manually", "A", 3, 4,
     "Ben Okafor", "A.12.1.3", "Treat", "", "2026-09-30", "Open"),
    ("ISR-037", "2021-10-05", "Cloud region outage",
     "A prolonged outage of the AWS London region makes TriageAssist unavailable.",
     "AWS production account", "Supplier outage", "Single-region deployment", "A", 2, 5, "Ben Okafor",
     "A.17.1.1, A.17.2.1", "Treat", "Warm standby in eu-west-1 under design", "2026-09-30", "Open"),
    ("ISR-038", "2019-06-04", "Ineffective incident response",
     "A security incident is handled slowly or inconsistently because playbooks are untested and out-of-hours "
     "cover is unclear.",
     "Managed detection and response service", "Delayed containment", "Playbooks untested; no tabletop "
     "exercise since 2022", "C, I, A", 3, 4, "Claire Donnelly", "A.16.1.1, A.16.1.5, A.16.1.6", "Treat", "",
     "2026-03-31", "Open"),
    ("ISR-039", "2022-04-19", "MDR provider misses a detection",
     "The managed detection provider does not escalate an intrusion in time.",
     "Managed detection and response service", "Supplier failure", "Detection coverage not reviewed with "
     "the provider", "C, I", 2, 4, "Claire Donnelly", "A.15.2.1, A.16.1.2", "Tolerate",
     "Quarterly service reviews", "2026-09-30", "Accepted"),
    ("ISR-040", "2019-06-04", "Late breach notification",
     "A personal data breach is not reported to the ICO and customers within 72 hours.",
     "Patient Data Platform", "Regulatory non-compliance", "Breach assessment steps not documented",
     "C", 2, 4, "Fiona McAllister", "A.16.1.2, A.16.1.4, A.18.1.1, A.6.1.3", "Treat", "", "2026-06-30",
     "Open"),
    ("ISR-041", "2019-03-11", "Non-compliance with UK GDPR",
     "Processing of patient and employee data does not meet UK GDPR requirements: DPIAs missing and records "
     "of processing out of date.",
     "Patient Data Platform", "Regulatory action", "Records of processing last updated 2023", "C", 3, 4,
     "Fiona McAllister", "A.18.1.1, A.18.1.4", "Treat", "", "2026-03-31", "Open"),
    ("ISR-042", "2021-10-05", "Patient data kept beyond contract",
     "Pseudonymised triage data stays in the analytics warehouse after customer contracts end.",
     "Analytics data warehouse", "Regulatory non-compliance", "No automated deletion on contract exit",
     "C", 3, 3, "Fiona McAllister", "A.18.1.3, A.8.3.2", "Treat", "", "2026-06-30", "Open"),
    ("ISR-043", "2022-11-21", "Re-identification of patients in training data",
     "Patients in the de-identified clinical training dataset are re-identified by linking rare symptom "
     "combinations, dates and locations, or by inference attacks on the trained model.",
     "Clinical training dataset", "Re-identification; membership inference",
     "Free-text fields only partly scrubbed; exact dates retained", "C", 2, 5, "Priya Raman",
     "A.18.1.4, A.9.4.1", "Treat", "", "2026-03-31", "Open"),
    ("ISR-044", "2022-11-21", "Unauthorised access to training data",
     "Data scientists download extracts of the training dataset to laptops and personal notebooks.",
     "Clinical training dataset", "Unauthorised disclosure", "No secure enclave; broad bucket permissions",
     "C", 3, 4, "Priya Raman", "A.9.4.1, A.8.2.3, A.13.2.1", "Treat", "", "2026-03-31", "Open"),
    ("ISR-045", "2022-11-21", "Tampering with model artefacts",
     "A malicious insider or an attacker replaces a model file in the registry and an altered triage model is "
     "deployed.",
     "TriageAssist model registry", "Tampering", "Registry write access broad; artefacts not signed",
     "I", 2, 5, "Priya Raman", "A.12.5.1, A.14.2.4, A.12.4.1", "Treat", "", "2026-06-30", "Open"),
    ("ISR-046", "2024-02-12", "Patient data sent to third-party LLM provider",
     "Patient free text in Handover Summary prompts is processed and possibly retained by the LLM provider "
     "outside the UK.",
     "Orbis LLM API", "Unauthorised disclosure; international transfer",
     "Standard API terms; data retention and processing location not contractually fixed", "C", 3, 5,
     "Fiona McAllister", "A.15.1.2, A.18.1.4, A.13.2.1", "Treat", "", "2026-03-31", "Open"),
    ("ISR-047", "2024-02-12", "Staff paste confidential data into public AI tools",
     "Staff paste patient, customer or source code extracts into public generative AI chatbots.",
     "Staff laptops", "Unauthorised disclosure (shadow AI)", "No approved-tools list; web filtering allows "
     "all AI sites", "C", 4, 4, "Claire Donnelly", "A.8.1.3, A.7.2.2, A.13.2.1", "Treat", "", "2026-03-31",
     "Open"),
    ("ISR-048", "2024-06-03", "Source code exposed through AI coding assistant",
     "Proprietary source code sent to the coding assistant vendor is retained or used to train its models.",
     "Source code repositories", "Unauthorised disclosure", "Vendor data use terms not reviewed", "C", 3, 3,
     "Ben Okafor", "A.9.4.5, A.15.1.2", "Treat", "", "2026-06-30", "Open"),
    ("ISR-049", "2021-10-05", "Unvetted contractors with production access",
     "Contract developers are given production access before vetting and contract terms are in place.",
     "Engineering staff", "Insider misuse", "Contractor onboarding bypasses HR screening", "C, I", 3, 4,
     "Nadia Hussain", "A.15.1.1, A.7.1.1, A.15.1.2", "Treat", "", "2026-06-30", "Open"),
    ("ISR-050", "2019-03-11", "Inadequate screening of new staff",
     "Staff in sensitive roles start before background checks complete.",
     "Engineering staff", "Insider misuse", "Checks run in parallel with onboarding", "C", 2, 3,
     "Sophie Turner", "A.7.1.1, A.7.1.2", "Tolerate", "", "2026-09-30", "Accepted"),
    ("ISR-051", "2019-03-11", "Security awareness training not completed",
     "Staff do not complete annual security awareness training and fall for common attacks.",
     "Engineering staff", "Human error", "Completion at 71%; no follow-up with managers", "C, I", 4, 3,
     "Claire Donnelly", "A.7.2.2", "Treat", "", "2026-03-31", "Open"),
    ("ISR-052", "2021-10-05", "Key person dependency in clinical safety team",
     "Clinical safety sign-off depends on one Clinical Safety Officer; absence stalls releases and incident "
     "reviews.",
     "Clinical safety team", "Loss of key staff", "No deputy CSO", "A", 3, 4, "Dr Tomasz Nowak",
     "A.6.1.1, A.17.1.1", "Treat", "Deputy CSO recruitment approved", "2026-06-30", "Open"),
    ("ISR-053", "2022-04-19", "Clinical safety case out of date",
     "Product releases change triage behaviour without the hazard log and safety case being updated.",
     "Clinical safety case and hazard log", "Process failure", "Release checklist does not require CSO "
     "sign-off for minor releases", "I", 3, 4, "Dr Tomasz Nowak", "A.12.1.2, A.14.2.9", "Treat", "",
     "2026-03-31", "Open"),
    ("ISR-054", "2021-10-05", "Loss of integrity of technical file",
     "The medical device technical file is edited without version control and no longer matches the "
     "released product.",
     "Medical device technical file", "Document control failure", "Shared drive without version history",
     "I", 2, 4, "Elena Rossi", "A.18.1.3, A.12.3.1", "Tolerate", "Moving to controlled document system",
     "2026-09-30", "Accepted"),
    ("ISR-055", "2019-03-11", "Malware introduced on removable media",
     "USB drives from customers or events introduce malware.",
     "Staff laptops", "Malware", "USB storage allowed on most laptops", "C, I, A", 2, 3, "Gareth Lewis",
     "A.8.3.1, A.12.2.1", "Tolerate", "EDR scans removable media", "2026-09-30", "Accepted"),
    ("ISR-056", "2022-04-19", "Compromise of secrets manager",
     "Misuse of the secrets manager exposes every service credential and signing key.",
     "Secrets manager", "Credential theft", "Broad read permissions for CI roles", "C, I, A", 2, 5,
     "Ben Okafor", "A.10.1.2, A.9.4.4", "Treat", "", "2026-06-30", "Open"),
    ("ISR-057", "2019-06-04", "Clock drift breaks log correlation",
     "Systems with unsynchronised clocks make incident timelines unreliable.",
     "Logging and SIEM platform", "Operational failure", "On-premises devices not using NTP", "I", 2, 2,
     "Lucy Chen", "A.12.4.4", "Treat", "All devices now use NTP", "2025-12-31", "Closed"),
    ("ISR-058", "2023-03-06", "Candidate data over-retained",
     "CVs and interview notes of unsuccessful candidates are kept for years in the recruitment platform.",
     "Candidate applications", "Regulatory non-compliance", "No retention rule configured", "C", 3, 3,
     "Sophie Turner", "A.18.1.4, A.18.1.3, A.15.1.2", "Treat", "", "2026-06-30", "Open"),
    ("ISR-059", "2023-03-06", "Cross-tenant exposure in scheduling module",
     "A flaw in tenant isolation lets one clinic see another clinic's appointments.",
     "Scheduling module", "Exploitation of application flaws", "Tenant filter applied in application code "
     "only", "C", 2, 5, "Hannah Clarke", "A.9.4.1, A.14.2.8, A.14.1.2", "Treat", "", "2026-06-30", "Open"),
    ("ISR-060", "2019-03-11", "Unapproved software on laptops",
     "Staff install unlicensed or unapproved software that introduces vulnerabilities.",
     "Staff laptops", "Malware; licence breach", "Local admin rights for engineers", "C, I", 3, 2,
     "Gareth Lewis", "A.12.6.2, A.12.5.1", "Tolerate", "Software inventory reviewed monthly", "2026-09-30",
     "Accepted"),
]

# Risk Ref -> (Target Likelihood, Target Impact): where the owner expects the risk to be once treated.
# Tolerated and closed risks have no target.
TARGETS = {
    "ISR-001": (2, 5), "ISR-002": (2, 3), "ISR-003": (2, 5), "ISR-004": (1, 4), "ISR-005": (1, 5),
    "ISR-006": (2, 5), "ISR-007": (2, 4), "ISR-008": (2, 5), "ISR-009": (2, 4), "ISR-010": (2, 2),
    "ISR-012": (1, 5), "ISR-013": (2, 3), "ISR-014": (2, 4), "ISR-015": (1, 3), "ISR-016": (2, 3),
    "ISR-017": (2, 4), "ISR-019": (2, 4), "ISR-020": (2, 3), "ISR-021": (2, 3), "ISR-022": (2, 4),
    "ISR-023": (1, 4), "ISR-025": (1, 4), "ISR-026": (2, 3), "ISR-029": (2, 3), "ISR-031": (2, 3),
    "ISR-032": (1, 3), "ISR-033": (2, 4), "ISR-034": (1, 5), "ISR-035": (2, 4), "ISR-036": (2, 4),
    "ISR-037": (1, 5), "ISR-038": (2, 4), "ISR-040": (1, 4), "ISR-041": (2, 4), "ISR-042": (2, 3),
    "ISR-043": (1, 4), "ISR-044": (2, 4), "ISR-045": (1, 5), "ISR-046": (2, 4), "ISR-047": (2, 3),
    "ISR-048": (2, 3), "ISR-049": (2, 4), "ISR-051": (2, 3), "ISR-052": (2, 4), "ISR-053": (2, 4),
    "ISR-056": (1, 5), "ISR-058": (2, 3), "ISR-059": (1, 5),
}

# Risk Ref -> (Accepted By, Acceptance Date, Acceptance Expiry) for the risks the owners tolerate. ISR-018 and
# ISR-054 are marked Accepted but nobody recorded the acceptance: riskmap's audits point that out.
ACCEPTANCES = {
    "ISR-011": ("Gareth Lewis", "2026-03-31", "2027-03-31"),
    "ISR-024": ("Sophie Turner", "2026-01-20", "2027-01-20"),
    "ISR-027": ("Dave Whitfield", "2026-02-10", "2027-02-10"),
    "ISR-028": ("Dave Whitfield", "2026-02-10", "2027-02-10"),
    "ISR-030": ("Dave Whitfield", "2026-02-10", "2027-02-10"),
    "ISR-039": ("Claire Donnelly", "2025-06-30", "2026-06-30"),
    "ISR-050": ("Sophie Turner", "2026-01-20", "2027-01-20"),
    "ISR-055": ("Gareth Lewis", "2026-03-31", "2027-03-31"),
    "ISR-060": ("Gareth Lewis", "2026-03-31", "2027-03-31"),
}

SCORING_GUIDE = [
    ("Likelihood", 1, "Rare", "Not expected in the next 5 years"),
    ("Likelihood", 2, "Unlikely", "Could happen once in 3-5 years"),
    ("Likelihood", 3, "Possible", "Could happen once in 1-3 years"),
    ("Likelihood", 4, "Likely", "Expected within a year"),
    ("Likelihood", 5, "Almost certain", "Expected several times a year"),
    ("Impact", 1, "Negligible", "No customer impact; under GBP 10k"),
    ("Impact", 2, "Minor", "Short disruption; a few records; under GBP 50k"),
    ("Impact", 3, "Moderate", "Customer complaints; reportable to a customer; under GBP 250k"),
    ("Impact", 4, "Major", "Reportable breach; service down for a day; under GBP 1m"),
    ("Impact", 5, "Severe", "Patient harm or large breach; regulator action; over GBP 1m"),
    ("Rating", 1, "Low", "Score 1-4"),
    ("Rating", 5, "Medium", "Score 5-10"),
    ("Rating", 12, "High", "Score 12-16"),
    ("Rating", 20, "Critical", "Score 20-25"),
]


BUSINESS_UNITS = {
    "Clinical": ("Dr Tomasz Nowak", "Priya Raman", "Hannah Clarke", "Elena Rossi", "Marcus Reid"),
    "Platform": ("Ben Okafor", "Kwame Asante", "Rajesh Menon", "Claire Donnelly", "Gareth Lewis", "Lucy Chen"),
    "Corporate": ("Sophie Turner", "Oliver Grant", "Dave Whitfield", "Jonathan Pike", "Fiona McAllister",
                  "Nadia Hussain"),
}
"""Northwind Health's three business units, by the department of each risk owner: Clinical (clinical
safety, machine learning, product, regulatory affairs, customer support), Platform (engineering, data
platform, information security, IT operations) and Corporate (people, finance, facilities, sales,
data protection, procurement). The AI register (ai-risk-register.csv) uses the same units."""
UNIT_OF = {owner: unit for unit, owners in BUSINESS_UNITS.items() for owner in owners}


def rating(score: int) -> str:
    """The team's own banding of likelihood x impact (see the Scoring Guide sheet)."""
    if score >= 20:
        return "Critical"
    if score >= 12:
        return "High"
    if score >= 5:
        return "Medium"
    return "Low"


def register_frame() -> pl.DataFrame:
    rows = []
    for (ref, raised, title, desc, asset, threat, vuln, cia, lik, imp, owner, controls, treatment, notes,
         review, status) in RISKS:
        accepted_by, accepted_on, expires = ACCEPTANCES.get(ref, (None, None, None))
        target_lik, target_imp = TARGETS.get(ref, (None, None))
        rows.append([ref, raised, title, desc, asset, threat, vuln, cia, lik, imp, lik * imp, rating(lik * imp),
                     target_lik, target_imp, owner, UNIT_OF[owner], controls, treatment, notes, accepted_by, accepted_on, expires, review, status])
    frame = pl.DataFrame(rows, schema=COLUMNS, orient="row")
    return frame.with_columns(pl.col("Date Raised", "Acceptance Date", "Acceptance Expiry", "Review Date").str.to_date())


def write_workbook(path: Path = XLSX) -> Path:
    frame = register_frame()
    guide = pl.DataFrame(SCORING_GUIDE, schema=["Scale", "Value", "Label", "Meaning"], orient="row")
    with Workbook(str(path)) as wb:
        wb.set_properties({"title": "Information Security Risk Register", "company": "Northwind Health Ltd",
                           "author": "Claire Donnelly"})
        frame.write_excel(wb, worksheet=SHEET, autofilter=True, freeze_panes=(1, 0), dtype_formats={
            pl.Date: "dd/mm/yyyy"}, column_widths={"Risk Title": 260, "Risk Description": 420,
                                                    "Existing Controls (ISO 27001:2013)": 220,
                                                    "Treatment Notes": 260}, table_style="Table Style Light 9")
        guide.write_excel(wb, worksheet="Scoring Guide", autofit=True)
    return path


if __name__ == "__main__":
    out = write_workbook(Path(sys.argv[1]) if len(sys.argv) > 1 else XLSX)
    print(f"{out}: {len(RISKS)} risks")
