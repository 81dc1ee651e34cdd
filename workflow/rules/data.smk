# Stage 1 — data: the named datasets of config `datasets`, and the activation curves of E1.


rule dataset:
    """One seeded draw of a regression dataset (hrta.data.make_dataset), stored as .npz."""
    output:
        "data/datasets/{dataset}.npz",
    params:
        dataset=lambda wc: dataset_config(wc.dataset),
    log:
        "logs/data/dataset_{dataset}.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    wildcard_constraints:
        dataset="|".join(config["datasets"]),
    conda:
        "../envs/hrta.yaml"
    script:
        "../../scripts/make_dataset.py"


rule e1_activations:
    """E1: σ_s(z) and σ_s'(z) on a grid of z for each s (hrta.activations)."""
    output:
        "data/e1/activations.csv",
    params:
        e1=canonical(config["e1"]),
    log:
        "logs/data/e1_activations.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/hrta.yaml"
    script:
        "../../scripts/e1_activations.py"
