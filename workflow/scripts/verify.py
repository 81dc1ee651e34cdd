"""Rule `verify`: the run against the shipped reference (hrta.pipeline.verify), as figures/VERIFY.md and
data/verify/VERIFY.json. Differences do not fail the job: they are the certificate's finding."""

from hrta.pipeline.joblog import job_logger
from hrta.pipeline.verify import certificate_markdown, verify_run, write_certificate
from hrta.pipeline.verify_reference import host_info

smk = snakemake  # noqa: F821 (injected by Snakemake)
log = job_logger(smk.log[0])
cert = verify_run(".", smk.params.reference, smk.params.tolerances, run_host=host_info())
write_certificate(cert, smk.output.md, smk.output.json)
log.info("certificate: %s\n%s", cert["status"], certificate_markdown(cert))
