"""A researcher's own data set: `datasets: NAME: {file: PATH}` (.npz or .csv).

Malformed files stop `snakemake -n` before any job, with the config key, the file and the problem
named; a good .npz and the same data as .csv load to the same arrays; and a file data set goes
through a smoke run of E3 (data set → training → E3's tables).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import CONFIGS, dry_run_batch, run_snakemake

from hrta.data import DataError, load_dataset
from hrta.datafiles import (
    check_dataset_file,
    dataset_draw,
    dataset_draw_config,
    dataset_from_config,
    load_dataset_file,
)
from hrta.pipeline.jobs import data_draws, dataset_sizes

KEY = "datasets.mine.file"


def _arrays(n=16, n_test=8, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X, Xt = rng.uniform(-1, 1, (n, d)), rng.uniform(-1, 1, (n_test, d))
    f = lambda X: np.sin(np.pi * X[:, 0]) + X[:, -1] ** 2  # noqa: E731
    return {"X_train": X, "y_train": f(X), "X_test": Xt, "y_test": f(Xt)}


def _write_csv(path: Path, arrays: dict, *, order=None) -> Path:
    """arrays as the documented CSV: columns x1..xd, y, split (train/test); `order` permutes the columns."""
    d = arrays["X_train"].shape[1]
    cols = order or [*(f"x{k}" for k in range(1, d + 1)), "y", "split"]
    lines = ["# my data: inputs x1..xd, label y", ",".join(cols)]
    for split in ("train", "test"):
        for x, y in zip(arrays[f"X_{split}"], arrays[f"y_{split}"]):
            row = {**{f"x{k + 1}": repr(float(v)) for k, v in enumerate(x)}, "y": repr(float(y)), "split": split}
            lines.append(",".join(row[c] for c in cols))
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# Library: loading and validation.


def test_npz_and_csv_load_to_the_same_arrays(tmp_path):
    arrays = _arrays()
    np.savez(tmp_path / "mine.npz", **{**arrays, "y_train": arrays["y_train"][:, None]})  # (n, 1) labels accepted
    _write_csv(tmp_path / "mine.csv", arrays, order=["split", "y", "x2", "x1"])  # columns in any order
    a, b = load_dataset_file(tmp_path / "mine.npz"), load_dataset_file(tmp_path / "mine.csv")
    for name, arr in arrays.items():
        np.testing.assert_array_equal(getattr(a, name), arr)
        np.testing.assert_array_equal(getattr(b, name), arr)
    assert a.d == b.d == 2 and a.y_train.ndim == 1
    assert not a.meta["constant_feature"] and len(a.meta["sha256"]) == 64
    assert check_dataset_file(tmp_path / "mine.csv", KEY) == (16, 8, 2)


def test_constant_feature_is_opt_in(tmp_path):
    arrays = _arrays()
    np.savez(tmp_path / "mine.npz", **arrays)
    ds = load_dataset_file(tmp_path / "mine.npz", constant_feature=True)
    assert ds.d == 3 and np.all(ds.X_train[:, -1] == 1.0) and np.all(ds.X_test[:, -1] == 1.0)
    np.testing.assert_array_equal(ds.X_train[:, :2], arrays["X_train"])
    spec = {"file": str(tmp_path / "mine.npz"), "name": "mine"}
    assert dataset_from_config(spec).d == 2
    assert dataset_sizes(spec) == (16, 8, 2)
    assert dataset_sizes(dict(spec, constant_feature=True)) == (16, 8, 3)


def test_test_set_is_optional_and_round_trips(tmp_path):
    arrays = _arrays()
    np.savez(tmp_path / "train_only.npz", X_train=arrays["X_train"], y_train=arrays["y_train"])
    ds = load_dataset_file(tmp_path / "train_only.npz")
    assert ds.X_test.shape == (0, 2) and ds.y_test.shape == (0,)
    csv = tmp_path / "train_only.csv"
    csv.write_text("x1,y\n0.5,1\n-0.5,2\n0.25,3\n")  # no split column: every row is a training row
    assert check_dataset_file(csv, KEY) == (3, 0, 1)
    from hrta.data import save_dataset  # noqa: PLC0415

    back = load_dataset(save_dataset(ds, tmp_path / "stored.npz"))  # the pipeline's stored form
    np.testing.assert_array_equal(back.X_train, ds.X_train)


def test_per_seed_draw_of_a_built_in_data_set_is_make_dataset_at_seed_plus_draw():
    """dataset_from_config(spec, draw): reference hrta.data.make_dataset called with seed = spec.seed + draw by hand."""
    from hrta.data import make_dataset  # noqa: PLC0415

    spec = {"name": "main", "target": "sin1d", "n_train": 12, "n_test": 5, "seed": 3, "constant_feature": True}
    args = {k: v for k, v in spec.items() if k != "name"}
    np.testing.assert_array_equal(dataset_from_config(spec).X_train, make_dataset(**args).X_train)
    for draw in (0, 2):
        np.testing.assert_array_equal(
            dataset_from_config(spec, draw).y_train, make_dataset(**{**args, "seed": 3 + draw}).y_train
        )
    assert not np.array_equal(dataset_from_config(spec, 2).X_train, dataset_from_config(spec).X_train)
    assert dataset_draw({"vary_data_seed": True}, 4) == 4
    assert dataset_draw({"vary_data_seed": False}, 4) is None and dataset_draw({}, 4) is None
    assert dataset_draw_config(spec, None) == spec and dataset_draw_config(spec, 2)["seed"] == 5


def test_a_file_has_one_draw(tmp_path):
    np.savez(tmp_path / "mine.npz", **_arrays())
    spec = {"name": "mine", "file": str(tmp_path / "mine.npz")}
    np.testing.assert_array_equal(dataset_from_config(spec, None).X_train, _arrays()["X_train"])
    for draw in (0, 1):
        with pytest.raises(DataError, match=r"data set 'mine' \(datasets\.mine\.file = .*mine\.npz'\) has one draw"):
            dataset_from_config(spec, draw)


def test_pipeline_draw_names_follow_the_library_convention():
    """hrta.pipeline.jobs.data_draws (the names claim 1 and the estimates use) draws seed i as dataset.seed + i."""
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    config["datasets"]["main"]["seed"] = 7
    draws = data_draws(config, "e3")  # smoke e3: vary_data_seed, seeds [0, 1]
    assert {name: ds["seed"] for name, ds in draws.items()} == {"main": 7, "main_data1": 8}
    config["e3"]["vary_data_seed"] = False
    assert list(data_draws(config, "e3")) == ["main"]


def _npz(**arrays):
    def write(path: Path) -> Path:
        path = path / "mine.npz"
        np.savez(path, **arrays)
        return path

    return write


def _text(name, text):
    def write(path: Path) -> Path:
        (path / name).write_text(text)
        return path / name

    return write


A = _arrays()
X, y, Xt, yt = A["X_train"], A["y_train"], A["X_test"], A["y_test"]
BAD_X = X.copy()
BAD_X[3, 1] = np.nan

# id: (writer of the file in a directory -> its path, regex of the problem)
MALFORMED = {
    "missing-file": (lambda p: p / "absent.npz", r"no such file"),
    "unknown-extension": (_text("mine.txt", "x1,y\n1,2\n"), r"unknown extension '\.txt'; use \.npz or \.csv"),
    "not-an-npz": (_text("mine.npz", "x1,y\n1,2\n"), r"not an \.npz archive"),
    "missing-y_train": (_npz(X_train=X), r"missing array\(s\) y_train"),
    "missing-X_train": (_npz(y_train=y), r"missing array\(s\) X_train"),
    "X-not-2d": (_npz(X_train=X[:, 0], y_train=y), r"X_train must be 2-D \(n, d\), got shape \(16,\)"),
    "y-not-1d": (_npz(X_train=X, y_train=np.c_[y, y]), r"y_train must be 1-D \(n,\) or \(n, 1\), got shape \(16, 2\)"),
    "y-wrong-length": (_npz(X_train=X, y_train=y[:5]), r"y_train has 5 labels but X_train has 16 rows"),
    "non-finite": (_npz(X_train=BAD_X, y_train=y), r"array 'X_train' has 1 non-finite value\(s\)"),
    "n-below-2": (_npz(X_train=X[:1], y_train=y[:1]), r"X_train has 1 row\(s\); need n >= 2"),
    "d-below-1": (_npz(X_train=X[:, :0], y_train=y), r"X_train has 0 columns; need d >= 1"),
    "only-X_test": (_npz(X_train=X, y_train=y, X_test=Xt), r"has X_test but no y_test"),
    "only-y_test": (_npz(X_train=X, y_train=y, y_test=yt), r"has y_test but no X_test"),
    "test-d-differs": (
        _npz(X_train=X, y_train=y, X_test=Xt[:, :1], y_test=yt),
        r"X_test has 1 columns but X_train has 2",
    ),
    "y_test-wrong-length": (
        _npz(X_train=X, y_train=y, X_test=Xt, y_test=yt[:3]),
        r"y_test has 3 labels but X_test has 8 rows",
    ),
    "text-labels": (_npz(X_train=X, y_train=np.array(["a"] * 16)), r"array 'y_train' must be real-valued"),
    "csv-no-y": (_text("mine.csv", "x1,x2\n1,2\n3,4\n"), r"no column 'y'"),
    "csv-no-inputs": (_text("mine.csv", "y\n1\n2\n"), r"no input column x1 \(d < 1\)"),
    "csv-gap-in-inputs": (_text("mine.csv", "x1,x3,y\n1,2,3\n4,5,6\n"), r"missing x2"),
    "csv-unknown-column": (_text("mine.csv", "x1,weight,y\n1,2,3\n4,5,6\n"), r"unknown column\(s\) 'weight'"),
    "csv-not-a-number": (_text("mine.csv", "x1,y\n1,2\n3,abc\n"), r"line 3, column 'y': 'abc' is not a number"),
    "csv-bad-split": (_text("mine.csv", "x1,y,split\n1,2,train\n3,4,valid\n"), r"split must be 'train' or 'test'"),
    "csv-ragged-row": (_text("mine.csv", "x1,y\n1,2\n3,4,5\n"), r"line 3 has 3 fields, the header has 2"),
    "csv-non-finite": (_text("mine.csv", "x1,y\n1,2\n3,nan\n"), r"array 'y_train' has 1 non-finite"),
    "csv-one-row": (_text("mine.csv", "x1,y,split\n1,2,train\n3,4,test\n"), r"X_train has 1 row\(s\); need n >= 2"),
    "csv-empty": (_text("mine.csv", ""), r"empty \.csv"),
}


@pytest.mark.parametrize("write, problem", MALFORMED.values(), ids=MALFORMED.keys())
def test_check_dataset_file_names_key_file_and_problem(tmp_path, write, problem):
    path = write(tmp_path)
    with pytest.raises(DataError) as err:
        check_dataset_file(path, KEY)
    message = str(err.value)
    assert message.startswith(f"key '{KEY}': data file '{path}': "), message
    assert re.search(problem, message), message


# --------------------------------------------------------------------------------------------
# The workflow: refused before any job (`snakemake -n`), and a smoke run of E3 on a file.


def _config(workdir: Path, dataset: dict, sections: dict | None = None, **e3) -> Path:
    """config/smoke.yaml with data set 'mine' = ``dataset``, E3 on it (vary_data_seed off, then ``e3``), and each
    section of ``sections`` ({"e8": {...}, "deep.train": {...}}) updated with its dict after ``dataset: mine``."""
    config = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    config["datasets"]["mine"] = dataset
    config["e3"].update({"dataset": "mine", "vary_data_seed": False, **e3})
    for key, update in (sections or {}).items():
        node = config
        for part in key.split("."):
            node = node[part]
        node.update({"dataset": "mine", **update})
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


# id: (file writer or None, dataset entry given the file name, e3 overrides, regex of the message)
WORKFLOW_CASES = {
    "missing-file": (
        None,
        {"file": "absent.npz"},
        {},
        r"key 'datasets\.mine\.file': data file 'absent\.npz': no such file",
    ),
    "unknown-extension": (
        _text("mine.txt", "x1,y\n1,2\n"),
        {"file": "mine.txt"},
        {},
        r"key 'datasets\.mine\.file': data file 'mine\.txt': unknown extension",
    ),
    "missing-y_train": (
        _npz(X_train=X),
        {"file": "mine.npz"},
        {},
        r"key 'datasets\.mine\.file': data file 'mine\.npz': missing array\(s\) y_train",
    ),
    "wrong-shape": (
        _npz(X_train=X, y_train=y[:5]),
        {"file": "mine.npz"},
        {},
        r"data file 'mine\.npz': y_train has 5 labels but X_train has 16 rows",
    ),
    "non-finite": (
        _npz(X_train=BAD_X, y_train=y),
        {"file": "mine.npz"},
        {},
        r"data file 'mine\.npz': array 'X_train' has 1 non-finite",
    ),
    "test-mismatch": (
        _npz(X_train=X, y_train=y, X_test=Xt[:, :1], y_test=yt),
        {"file": "mine.npz"},
        {},
        r"data file 'mine\.npz': X_test has 1 columns but X_train has 2",
    ),
    "csv-bad-split": (
        _text("mine.csv", "x1,y,split\n1,2,train\n3,4,valid\n"),
        {"file": "mine.csv"},
        {},
        r"key 'datasets\.mine\.file': data file 'mine\.csv': line 3: split must be 'train' or 'test'",
    ),
    "vary-data-seed": (
        _npz(**A),
        {"file": "mine.npz"},
        {"vary_data_seed": True},
        r"key 'e3\.vary_data_seed': data set 'mine' is a file",
    ),
    "unknown-key-next-to-file": (
        _npz(**A),
        {"file": "mine.npz", "noise": 0.1},
        {},
        r"unknown key 'datasets\.mine\.noise'; allowed keys here: constant_feature, file",
    ),
    "constant-feature-not-bool": (
        _npz(**A),
        {"file": "mine.npz", "constant_feature": "yes"},
        {},
        r"key 'datasets\.mine\.constant_feature': 'yes' is not of type 'boolean'",
    ),
}


@pytest.fixture(scope="module")
def malformed_dry_runs(tmp_path_factory):
    """Every WORKFLOW_CASES config planned as `snakemake -n` would, in one process (conftest.dry_run_batch)."""
    root, cases = tmp_path_factory.mktemp("malformed"), {}
    for name, (write, dataset, e3, _) in WORKFLOW_CASES.items():
        (root / name).mkdir()
        if write is not None:
            write(root / name)
        cases[name] = (root / name, _config(root / name, dataset, **e3))
    return dry_run_batch(cases)


@pytest.mark.xdist_group("malformed_files")  # one worker runs the module fixture's batch
@pytest.mark.parametrize("case", list(WORKFLOW_CASES))
def test_malformed_file_stops_the_workflow_before_any_job(malformed_dry_runs, case):
    workdir, result = malformed_dry_runs[case]
    assert not result["ok"] and result["error"] == "WorkflowError", result  # no traceback in the terminal
    assert "invalid config" in result["message"], result["message"]
    assert re.search(WORKFLOW_CASES[case][3], result["message"]), result["message"]
    assert not (workdir / "data").exists()  # nothing ran


def _sphere_arrays(n=30, n_test=10, d=6, seed=0):
    """A user's small file for every experiment: n points uniform on the unit sphere S^{d-1} ⊂ R^d (no constant
    feature, like E8's built-in data), label x1·x2 + |x3|. E8's stability check passes at the smoke config's
    lr = 3: lr·λ_max(K_s/n) ≤ 1.45 < 2 for s ∈ {0.5, 1, 1.5} (rng seed 0)."""
    rng = np.random.default_rng(seed)
    X, Xt = (rng.standard_normal((k, d)) for k in (n, n_test))
    X, Xt = X / np.linalg.norm(X, axis=1, keepdims=True), Xt / np.linalg.norm(Xt, axis=1, keepdims=True)
    f = lambda X: X[:, 0] * X[:, 1] + np.abs(X[:, 2])  # noqa: E731
    return {"X_train": X, "y_train": f(X), "X_test": Xt, "y_test": f(Xt)}


# id: (sections put on the file, regex of the message): where a file cannot go, the dry run says so by key;
# E8 on a file runs its stability check (lr·λ_max(K_s/n) < 2) on the file's data.
CANNOT_TAKE_THE_FILE = {
    "e7": ({"e7": {"vary_data_seed": False}}, r"key 'e7\.dataset': data set 'mine' is a file \(datasets\.mine\.file\)"),
    "e8-vary-data-seed": ({"e8": {"vary_data_seed": True}}, r"key 'e8\.vary_data_seed': data set 'mine' is a file"),
    "e6_regime-vary-data-seed": (
        {"e6_regime": {"vary_data_seed": True}},
        r"key 'e6_regime\.vary_data_seed': data set 'mine' is a file",
    ),
    "e8-unstable-on-the-file": (
        {"e8": {"optimizers": {"gd": {"label": "GD", "optimizer": "gd", "lr": 10.0, "lr_schedule": "constant"}}}},
        r"key 'e8\.optimizers\.gd\.lr': lr·λ_max\(K_s/n\) = [0-9.]+ ≥ 2 at s = [0-9.]+",
    ),
}


@pytest.fixture(scope="module")
def cannot_take_dry_runs(tmp_path_factory):
    """Every CANNOT_TAKE_THE_FILE config planned as `snakemake -n` would, in one process (conftest.dry_run_batch)."""
    root, cases = tmp_path_factory.mktemp("cannot_take"), {}
    for name, (sections, _) in CANNOT_TAKE_THE_FILE.items():
        (root / name).mkdir()
        _npz(**_sphere_arrays())(root / name)
        cases[name] = (root / name, _config(root / name, {"file": "mine.npz"}, sections))
    return dry_run_batch(cases)


@pytest.mark.xdist_group("cannot_take_the_file")  # one worker runs the module fixture's batch
@pytest.mark.parametrize("case", list(CANNOT_TAKE_THE_FILE))
def test_where_a_file_cannot_go_the_dry_run_names_the_key(cannot_take_dry_runs, case):
    workdir, result = cannot_take_dry_runs[case]
    assert not result["ok"] and result["error"] == "WorkflowError", result  # no traceback in the terminal
    assert "invalid config" in result["message"], result["message"]
    assert re.search(CANNOT_TAKE_THE_FILE[case][1], result["message"]), result["message"]
    assert not (workdir / "data").exists()


@pytest.mark.slow
def test_good_file_data_set_runs_e3(tmp_path):
    """A user's .csv (constant feature appended) through E3 of the smoke config: data set, training, tables."""
    _write_csv(tmp_path / "mine.csv", A)
    config = _config(tmp_path, {"file": "mine.csv", "constant_feature": True})
    table = "figures/tables/e3_loss_at_budget.csv"
    result = run_snakemake(tmp_path, "--", table, configfile=config, timeout=600)  # "--": not a configfile
    assert result.returncode == 0, result.stdout[-4000:]
    stored = load_dataset(tmp_path / "data/datasets/mine.npz")
    np.testing.assert_array_equal(stored.X_train[:, :2], A["X_train"])
    assert stored.d == 3 and stored.target == "file:mine.csv"
    import pandas as pd  # noqa: PLC0415

    rows = pd.read_csv(tmp_path / table)
    assert len(rows) > 0
    assert run_snakemake(tmp_path, "-n", table, configfile=config).stdout.count("Nothing to be done") == 1


def _file_capable_sections(config: dict, one_path: bool = False) -> dict:
    """Every section whose data set can be a file, as _config's ``sections``: E2, every training experiment and
    claims sweep but E7 (hrta.pipeline.jobs finds them, so an added one is covered), and the deep networks.

    With ``one_path``, one job per code path that reads the file: each section keeps its first seed only (every
    seed's job runs the same code on the same file: vary_data_seed is off), but the fairness sweeps, which must
    score the chosen rates on 2 seeds or more and keep their first optimizer only (each optimizer's tuning and
    scoring jobs run the same code); a training experiment with a wide float32 path keeps its first width and the
    first wide one; a sweep over models keeps the first model of each kind (two_layer, deep)."""
    from hrta.pipeline.jobs import is_fairness_sweep, sweep_experiments, training_experiments  # noqa: PLC0415

    def one_per_path(section: dict) -> dict:
        if not one_path:
            return {}
        if is_fairness_sweep(section):
            first = next(iter(section["optimizers"]))
            return {"optimizers": {first: section["optimizers"][first]}}
        update = {"seeds": section["seeds"][:1]}
        if section.get("wide") and "widths" in section:
            wide = [w for w in section["widths"] if w >= section["wide"]["min_width"]]
            update["widths"] = sorted({section["widths"][0], wide[0]}) if wide else section["widths"][:1]
        if "models" in section:
            first_of_kind = {}
            for name, model in section["models"].items():
                first_of_kind.setdefault(model["kind"], name)
            update["models"] = {name: section["models"][name] for name in first_of_kind.values()}
        return update

    exps = [e for e in training_experiments(config) + sweep_experiments(config) if e != "e7"]
    return {
        "e2": one_per_path(config["e2"]),
        "deep.train": one_per_path(config["deep"]["train"]),
        **{e: {"vary_data_seed": False, **one_per_path(config[e])} for e in exps},
    }


@pytest.mark.slow
def test_whole_smoke_run_with_every_experiment_on_one_file(tmp_path):
    """Issue 26: the smoke config end to end with E2, E3, E4, E5, E6, E8, e6_regime and the deep networks on one
    user .npz (30 points on S⁵, no constant feature; E8's stability check passes at its smoke lr = 3, see
    _sphere_arrays). Every table of rule all and CLAIMS.md are written; the tables that name data sets name the
    file's, and none names sphere6, the built-in data set E8 and e6_regime use in smoke.yaml. E7 stays on its
    built-in data (it cannot take a file)."""
    smoke = yaml.safe_load((CONFIGS / "smoke.yaml").read_text())
    sections = _file_capable_sections(smoke, one_path=True)
    assert {"e2", "e3", "e4", "e5", "e6", "e6_regime", "e8", "deep.train"} <= set(sections)
    _npz(**_sphere_arrays())(tmp_path)
    config = _config(tmp_path, {"file": "mine.npz"}, sections)
    import pandas as pd  # noqa: PLC0415

    def summary() -> pd.DataFrame:
        """Snakemake's own list of the outputs of rule all: output_file, status, plan, ..."""
        out = run_snakemake(tmp_path, "--summary", configfile=config)
        assert out.returncode == 0, out.stdout[-4000:]
        return pd.read_csv(io.StringIO(out.stdout[out.stdout.index("output_file\t") :]), sep="\t")

    def tables(rows: pd.DataFrame) -> pd.DataFrame:
        return rows[rows.output_file.str.startswith("figures/tables/") | (rows.output_file == "figures/CLAIMS.md")]

    # the tables of rule all and CLAIMS.md: every job that reads the data, without the jobs that only draw figures
    # from the tables (the figures of a file's data set are drawn by the same code as any other data set's)
    targets = tables(summary()).output_file.tolist()
    assert len(targets) >= 40, targets
    result = run_snakemake(tmp_path, "--", *targets, configfile=config, timeout=1800)  # "--": not a configfile
    assert result.returncode == 0, result.stdout[-4000:]

    # every table of rule all (and CLAIMS.md) is there and current
    rows = tables(summary())
    assert rows.output_file.tolist() == targets
    assert (rows.status == "ok").all() and (rows.plan == "no update").all(), rows
    for path in targets:
        assert (tmp_path / path).stat().st_size > 0, path
    # the trained experiments read the one stored data set, the file
    assert sorted(p.name for p in (tmp_path / "data/datasets").iterdir()) == ["mine.npz"]
    assert load_dataset(tmp_path / "data/datasets/mine.npz").target == "file:mine.npz"
    # the tables that name data sets name the file's
    figures = tmp_path / "figures"
    regime = pd.read_csv(figures / "tables/regime.csv")
    trained = regime[~regime.experiment.str.startswith("e7 ")]  # E7's data set cells stay on built-in data
    assert (
        set(trained.dataset) == {"mine"}
        and set(trained.experiment) == {"e3", "e3_equal_init", "e4", "e8"}
        and set(trained.n) == {30}
    )
    e7 = regime[regime.experiment.str.startswith("e7 ")]
    assert len(e7) and (e7.experiment == "e7 " + e7.dataset).all()
    e2 = pd.read_csv(figures / "tables/e2_lambda_min.csv")
    assert set(e2.loc[e2.dataset == "mine", "target"]) == {"file:mine.npz"}
    assert "mine" in set(pd.read_csv(figures / "tables/deep_spectrum.csv").dataset)
    # claim 1's parts name each data set (CLAIMS.md counts them: "rises in k of k data set × layers")
    assert "data=mine (file:mine.npz, n=30, d=6)" in (figures / "tables/claims_parts.md").read_text()
    assert not [p for p in figures.rglob("*") if p.suffix in (".csv", ".md", ".tex") and "sphere6" in p.read_text()]
