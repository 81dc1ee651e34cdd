# Stage 1 — data: the named datasets of config `datasets`, and the activation curves of E1.


rule dataset:
    """One seeded draw of a regression dataset (hrta.data.make_dataset), or a user's file
    ({file: PATH}: its input, so editing it re-runs what depends on it), stored as .npz."""
    input:
        lambda wc: [config["datasets"][wc.dataset]["file"]] if "file" in config["datasets"][wc.dataset] else [],
    output:
        "data/datasets/{dataset}.npz",
    log:
        "logs/data/dataset_{dataset}.log",
    wildcard_constraints:
        dataset="|".join(config["datasets"]),
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("dataset"),
    params:
        dataset=lambda wc: dataset_config(wc.dataset),
    script:
        "../scripts/make_dataset.py"


rule e1_activations:
    """E1: σ_s(z) and σ_s'(z) on a grid of z for each s (hrta.activations)."""
    output:
        "data/e1/activations.csv",
    log:
        "logs/data/e1_activations.log",
    conda:
        "../envs/hrta.yaml"
    threads: 1
    resources:
        **job_resources("e1_activations"),
    params:
        e1=canonical(config["e1"]),
    script:
        "../scripts/e1_activations.py"
