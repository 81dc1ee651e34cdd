# Stage 2 — training: one job per (experiment, width, seed) runs every method × optimizer of that
# width and seed in one process (importing torch costs about as much as a small run), on the same
# data and the same initialization.


rule train:
    """All methods × optimizers of one experiment at one width and seed (hrta.train.train)."""
    input:
        dataset=lambda wc: dataset_file(config[wc.exp]["dataset"]),
    output:
        history="data/train/{exp}/w{width}_seed{seed}.csv",
        runs="data/train/{exp}/w{width}_seed{seed}_runs.csv",
    log:
        "logs/train/{exp}/w{width}_seed{seed}.log",
    benchmark:
        "logs/benchmarks/train/{exp}/w{width}_seed{seed}.tsv"
    wildcard_constraints:
        exp="|".join(TRAIN_EXPERIMENTS),
        width=r"[1-9]\d*",
        seed=r"\d+",
    conda:
        "../envs/hrta.yaml"
    threads: config["threads"]["train"]
    resources:
        **job_resources("train"),
        gpu=GPU,
    params:
        settings=lambda wc: train_settings(wc.exp, int(wc.width)),
        width=lambda wc: int(wc.width),
        seed=lambda wc: int(wc.seed),
    script:
        "../scripts/train.py"
