# Reproduction certificate (issue 25): the run's tables and verdict labels against the shipped reference
# (docs/default_run/reference/, made by `python -m hrta.verify --make-reference RUN_DIR`), each cell under the
# tolerance docs/default_run/tolerances.yaml declares for its quantity. Included last: it reads every table
# and runs after every figure, so the run's provenance records (its config fingerprint) are complete.
# The rule never fails on differences (the certificate is the finding, shown in the HTML report);
# `python -m hrta.verify RUN_DIR` exits non-zero on them.

VERIFY_REFERENCE = os.path.join(workflow.basedir, "docs", "default_run", "reference")
VERIFY_TOLERANCES = os.path.join(workflow.basedir, "docs", "default_run", "tolerances.yaml")
VERIFY_INPUTS = {
    "tables": sorted(t for t in TABLES if t.endswith(".csv")),
    "claims": "figures/CLAIMS.md",
    "figures": list(FIGURES),
    # a new reference or tolerance re-runs the certificate; without a reference (e.g. a workflow copied without
    # docs/) the certificate says so
    "tolerances": [p for p in [VERIFY_TOLERANCES] if os.path.exists(p)],
    "reference": [p for p in [os.path.join(VERIFY_REFERENCE, "provenance.json")] if os.path.exists(p)],
}
TABLES += ["figures/VERIFY.md", "data/verify/VERIFY.json"]


rule verify:
    """The reproduction certificate: verdicts equal k of 7; cells equal / within tolerance / different."""
    input:
        **VERIFY_INPUTS,
    output:
        md=report("figures/VERIFY.md", caption="../report/verify.rst", category="Claims"),
        json="data/verify/VERIFY.json",
    log:
        "logs/verify.log",
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("verify"),
    params:
        # the shipped reference's folder (a function: --lint refuses a hardcoded prefix of an input)
        reference=lambda wildcards, input: os.path.dirname(input.reference[0]) if input.reference else VERIFY_REFERENCE,
    script:
        "../scripts/verify.py"
