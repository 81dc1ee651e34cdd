"""Rule `verify`: the run against the shipped reference (hrta.pipeline.verify), as figures/VERIFY.md and
data/verify/VERIFY.json. Differences do not fail the job: they are the certificate's finding."""

import hrta.pipeline.job_start  # noqa: F401 (first: the imports below run with the collector paused)

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.verify import DEFAULT_TOLERANCES, certificate_markdown, verify_run, write_certificate
from hrta.pipeline.verify_reference import host_info

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
# the tolerance file is an input where it exists; without it (a workflow copied without docs/) there is no
# reference either, and verify_run says so before it would read tolerances
tolerances = smk.input.tolerances[0] if smk.input.tolerances else DEFAULT_TOLERANCES
cert = verify_run(".", smk.params.reference, tolerances, run_host=host_info("."))
write_certificate(cert, smk.output.md, smk.output.json)
log.info("certificate: %s\n%s", cert["status"], certificate_markdown(cert))
