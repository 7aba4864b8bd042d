"""A seeded generator of an enterprise: business units, their risk registers, assets, AI systems,
and synthetic frameworks with a dense crosswalk to stress inference.

Registers look like the ones real teams keep: CSV and Excel mixed, headers in varied wordings, scales
of 1-3, 1-4, 1-5, 1-10, Low/Medium/High, Very low..Very high and percentages, control references in
the forms people write them, legacy 2013 references among them.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

N_UNITS = 50
N_ASSETS = 5_000
N_AI_SYSTEMS = 1_000
N_SYNTHETIC_FRAMEWORKS = 20
CONTROLS_PER_FRAMEWORK = 300
N_SYNTHETIC_MAPPINGS = 60_000


def bench_risks() -> int:
    return int(os.environ.get("BENCH_RISKS", "100000"))


HEADER_VARIANTS = {
    "id": ["Risk ID", "ID", "Ref", "Risk Ref"],
    "title": ["Title", "Risk", "Risk name"],
    "description": ["Description", "Risk Description"],
    "asset": ["Asset", "Asset ID"],
    "ai_system": ["AI System", "AI system"],
    "threat": ["Threat", "Threat source"],
    "vulnerability": ["Vulnerability", "Weakness"],
    "likelihood": ["Likelihood", "Probability"],
    "impact": ["Impact", "Consequence", "Severity"],
    "owner": ["Owner", "Risk owner"],
    "treatment": ["Treatment", "Treatment option"],
    "controls": ["Controls", "Annex A controls", "ISO controls"],
    "status": ["Status"],
    "review": ["Review date", "Next review"],
}

SCALES = {
    "1-3": [str(i) for i in range(1, 4)],
    "1-4": [str(i) for i in range(1, 5)],
    "1-5": [str(i) for i in range(1, 6)],
    "1-10": [str(i) for i in range(1, 11)],
    "lmh": ["Low", "Medium", "High"],
    "vl-vh": ["Very low", "Low", "Medium", "High", "Very high"],
    "pct": ["5%", "20%", "45%", "70%", "95%"],
}

THREATS = ["Ransomware", "Phishing", "Insider misuse", "Supplier compromise", "Misconfiguration",
           "Data poisoning", "Model drift", "Prompt injection", "Power failure", "Lost device",
           "Credential stuffing", "Unpatched software", "Biased training data", "Model inversion"]
VULNS = ["Weak MFA coverage", "Missing patch process", "No data lineage", "Unreviewed model changes",
         "Flat network", "Shared admin accounts", "No monitoring of model outputs", "Unencrypted backups"]
OBJECTS = ["customer records", "payroll data", "clinical notes", "the scoring model", "the chatbot",
           "build pipeline", "backup vault", "HR portal", "claims engine", "recommendation service"]
TREATMENTS = ["Modify", "Retain", "Avoid", "Share", "Mitigate", "Accept", "Transfer"]
STATUSES = ["Open", "In progress", "Closed", "Accepted"]
SEC_REFS_2022 = ["A.5.1", "A.5.15", "A.5.23", "A.8.8", "A.8.15", "A.8.16", "A.8.24", "A.8.13", "A.5.30",
                 "A.6.3", "A.8.28", "A.5.24"]
SEC_REFS_2013 = ["ISO 27001:2013 A.12.4.1", "ISO 27001:2013 A.9.2.3", "ISO 27001:2013 A.12.6.1",
                 "ISO 27001:2013 A.14.2.8", "ISO 27001:2013 A.18.1.4"]
AI_REFS = ["42001 A.6.2.8", "42001 A.7.4", "42001 A.5.4", "42001 A.6.2.4", "42001 A.8.2", "42001 A.10.3"]


@dataclass
class Enterprise:
    root: Path
    register_files: list[tuple[Path, str, str]] = field(default_factory=list)  # (path, source, system)
    assets_file: Path | None = None
    ai_systems_file: Path | None = None
    n_risks: int = 0


def _pick(rng: random.Random, seq: list[str]) -> str:
    return seq[rng.randrange(len(seq))]


def generate_registers(root: Path, n_risks: int | None = None, seed: int = 42) -> Enterprise:
    """Write assets, AI systems and 50 register files (CSV and Excel mixed) under ``root``."""
    n_risks = bench_risks() if n_risks is None else n_risks
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    ent = Enterprise(root, n_risks=n_risks)
    assets = pl.DataFrame({
        "Asset ID": [f"AS-{i:05d}" for i in range(1, N_ASSETS + 1)],
        "Asset name": [f"{_pick(rng, OBJECTS).capitalize()} {i}" for i in range(1, N_ASSETS + 1)],
        "Type": [_pick(rng, ["information", "software", "hardware", "service", "people"]) for _ in range(N_ASSETS)],
        "Owner": [f"Owner {rng.randrange(200)}" for _ in range(N_ASSETS)],
        "Business unit": [f"BU{rng.randrange(N_UNITS) + 1:02d}" for _ in range(N_ASSETS)],
    })
    ent.assets_file = root / "assets.csv"
    assets.write_csv(ent.assets_file)
    ai = pl.DataFrame({
        "AI System ID": [f"AI-{i:04d}" for i in range(1, N_AI_SYSTEMS + 1)],
        "Name": [f"AI service {i}" for i in range(1, N_AI_SYSTEMS + 1)],
        "Purpose": [_pick(rng, ["triage", "fraud scoring", "chat support", "forecasting", "coding aid"])
                    for _ in range(N_AI_SYSTEMS)],
        "Role": [_pick(rng, ["developer", "provider", "user"]) for _ in range(N_AI_SYSTEMS)],
        "Lifecycle stage": [_pick(rng, ["design", "development", "deployment", "operation"])
                            for _ in range(N_AI_SYSTEMS)],
        "Owner": [f"Owner {rng.randrange(200)}" for _ in range(N_AI_SYSTEMS)],
    })
    ent.ai_systems_file = root / "ai-systems.csv"
    ai.write_csv(ent.ai_systems_file)

    per_file = [n_risks // N_UNITS + (1 if i < n_risks % N_UNITS else 0) for i in range(N_UNITS)]
    scale_names = list(SCALES)
    for unit in range(N_UNITS):
        n = per_file[unit]
        is_ai = unit % 5 == 4           # one register in five is an AI register
        excel = unit % 5 in (1, 3)      # two in five are Excel workbooks
        scale = SCALES[scale_names[unit % len(scale_names)]]
        headers = {k: v[(unit + i) % len(v)] for i, (k, v) in enumerate(HEADER_VARIANTS.items())}
        ids = [f"BU{unit + 1:02d}-{i:05d}" for i in range(1, n + 1)]
        titles, refs = [], []
        for i in range(n):
            obj = _pick(rng, OBJECTS)
            titles.append(f"{_pick(rng, THREATS)} affecting {obj} ({unit + 1}-{i % 997})")
            if is_ai:
                cell = ", ".join(rng.sample(AI_REFS, rng.randrange(1, 3)))
            else:
                pool = SEC_REFS_2022 if rng.random() < 0.7 else SEC_REFS_2013
                cell = "; ".join(rng.sample(pool, rng.randrange(1, 3)))
            refs.append(cell)
        data = {
            headers["id"]: ids,
            headers["title"]: titles,
            headers["description"]: [f"Because of {_pick(rng, VULNS).lower()}, {t.lower()}." for t in titles],
            headers["threat"]: [_pick(rng, THREATS) for _ in range(n)],
            headers["vulnerability"]: [_pick(rng, VULNS) for _ in range(n)],
            headers["likelihood"]: [_pick(rng, scale) for _ in range(n)],
            headers["impact"]: [_pick(rng, scale) for _ in range(n)],
            headers["owner"]: [f"Owner {rng.randrange(200)}" for _ in range(n)],
            headers["treatment"]: [_pick(rng, TREATMENTS) for _ in range(n)],
            headers["controls"]: refs,
            headers["status"]: [_pick(rng, STATUSES) for _ in range(n)],
            headers["review"]: [f"2027-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}" for _ in range(n)],
        }
        if is_ai:
            data[headers["ai_system"]] = [f"AI-{rng.randrange(N_AI_SYSTEMS) + 1:04d}" for _ in range(n)]
        else:
            data[headers["asset"]] = [f"AS-{rng.randrange(N_ASSETS) + 1:05d}" for _ in range(n)]
        frame = pl.DataFrame(data)
        source = f"bu{unit + 1:02d}-{'ai' if is_ai else 'security'}"
        path = root / f"{source}.{'xlsx' if excel else 'csv'}"
        if excel:
            frame.write_excel(path, worksheet="Risks")
        else:
            frame.write_csv(path)
        ent.register_files.append((path, source, "AIMS" if is_ai else "ISMS"))
    return ent


SYNTHETIC_SOURCE = "urn:riskmap-bench:risk:library:synthetic"


def add_synthetic_frameworks(con: duckdb.DuckDBPyConnection, seed: int = 7) -> int:
    """Insert 20 synthetic frameworks of 300 controls and 60,000 mappings between them (set-based), stored as
    an imported library would store them (``crosswalk_imports``, ``imported_frameworks``,
    ``imported_mappings``), so inference reads them as imported frameworks.

    Built the way real crosswalks look: every framework covers the same 300 concepts in its own
    words, so control C-j of one framework maps to the controls of concepts j and j+1 of another.
    Frameworks sit on a ring and each is mapped directly to its next five neighbours (two links per
    control and pair, relationship and strength drawn at random); the pairs no record decides, within
    directly mapped frameworks and between frameworks further apart, are reached only by inference,
    which is what this stresses. Returns the number of mappings inserted.
    """
    f, c = N_SYNTHETIC_FRAMEWORKS, CONTROLS_PER_FRAMEWORK
    con.execute("SELECT setseed(?)", [seed / 100])
    con.execute(f"""
        INSERT INTO frameworks
        SELECT 'synthetic-' || lpad(i::VARCHAR, 2, '0'), 'Synthetic framework ' || i, '1', NULL, 'benchmark',
               'generated', '1', false
        FROM range(1, {f} + 1) t(i)
    """)
    con.execute(f"""
        INSERT INTO controls (framework, ref, title, kind, parent_ref, grp, theme, summary, ordinal)
        SELECT 'synthetic-' || lpad(i::VARCHAR, 2, '0'), 'C-' || j, 'Synthetic control ' || j, 'annex_a_control',
               NULL, NULL, NULL, 'generated', j
        FROM range(1, {f} + 1) a(i), range(1, {c} + 1) b(j)
    """)
    con.execute("INSERT INTO crosswalk_imports (import_source, kind, file_name, name, copyright, version, "
                "imported_at, imported_by) VALUES (?, 'library', 'synthetic.yaml', 'Synthetic frameworks', "
                "'generated', '1', TIMESTAMP '2026-01-01', 'benchmark')", [SYNTHETIC_SOURCE])
    con.execute("INSERT INTO imported_frameworks SELECT framework, ? FROM frameworks "
                "WHERE framework LIKE 'synthetic-%'", [SYNTHETIC_SOURCE])
    con.execute(f"""
        INSERT INTO imported_mappings (import_source, source_framework, source_ref, target_framework, target_ref,
                                       relationship, strength, rationale_type, justification, author, authored_on,
                                       review_status, origin_file, imported_at)
        SELECT '{SYNTHETIC_SOURCE}', 'synthetic-' || lpad(i::VARCHAR, 2, '0'), 'C-' || j,
               'synthetic-' || lpad((1 + ((i - 1 + d) % {f}))::VARCHAR, 2, '0'), 'C-' || (1 + ((j - 1 + o) % {c})),
               ['equal', 'subset_of', 'superset_of', 'intersects_with', 'intersects_with']
                   [1 + floor(random() * 5)::INT],
               1 + floor(random() * 10)::INT, 'semantic', 'generated', 'benchmark', DATE '2026-01-01', 'draft',
               'synthetic', TIMESTAMP '2026-01-01'
        FROM range(1, {f} + 1) a(i), range(1, 6) b(d), range(1, {c} + 1) k(j), range(0, 2) x(o)
    """)
    return con.execute("SELECT count(*) FROM imported_mappings WHERE import_source = ?",
                       [SYNTHETIC_SOURCE]).fetchone()[0]
