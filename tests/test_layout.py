"""The architecture the layout shows: the library (hrta.*) never imports the pipeline (hrta.pipeline), no
module imports itself through a cycle, every module declares its public names, the cost models run
without torch, and the sizes the code uses have one definition (hrta.sizes) the estimates share."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hrta"
#: `python -m hrta.plan` and `python -m hrta.verify` are the pipeline's command-line entry points, kept short;
#: they are not library code.
ENTRY_POINTS = {"hrta.plan", "hrta.verify"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """hrta modules imported by module ``name`` at any level (function-level imports included)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in MODULES and m != name}


def test_the_library_never_imports_the_pipeline():
    library = [m for m in MODULES if not m.startswith("hrta.pipeline") and m not in ENTRY_POINTS]
    offenders = {m: sorted(i for i in _imports(m) if i.startswith("hrta.pipeline")) for m in library}
    assert {m: i for m, i in offenders.items() if i} == {}


def test_no_import_cycles():
    graph = {m: _imports(m) - {m.rpartition(".")[0]} for m in MODULES}  # a module's own package is not a cycle
    state: dict[str, int] = {}
    cycles = []

    def visit(m, stack):
        state[m] = 1
        for dep in graph[m]:
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep) :] + [dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[m] = 2

    for m in MODULES:
        if m not in state:
            visit(m, [m])
    # A package's __init__ importing its own submodules is the ordinary re-export, not a cycle.
    cycles = [c for c in cycles if not any(a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(c, c[1:]))]
    assert cycles == []


@pytest.mark.parametrize("name", [m for m in MODULES if m not in ENTRY_POINTS])
def test_every_module_declares_its_public_names(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    declared = [
        n for n in tree.body if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets)
    ]
    private = name.rpartition(".")[2].startswith("_") and name.rpartition(".")[2] != "__init__"
    assert declared or private, f"{name} has no __all__"


def test_modules_stay_readable():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}


def test_cost_models_and_job_definitions_run_without_torch():
    code = (
        "import sys, hrta.pipeline.jobs, hrta.pipeline.memory, hrta.pipeline.runtime, hrta.pipeline.estimates, "
        "hrta.pipeline.cluster, hrta.pipeline.provenance, hrta.pipeline.config_schema, hrta.pipeline.lint, "
        "hrta.sizes, hrta.bases; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # Snakemake estimates every job without importing torch


def test_library_and_estimates_share_one_definition_of_the_sizes():
    """Identity, not equality: the estimates and the code read the very same objects of hrta.sizes."""
    import hrta.bases as bases
    import hrta.ntk._dual as dual
    import hrta.pipeline.memory as memory
    import hrta.pipeline.runtime as runtime
    import hrta.sizes as sizes
    from hrta.models import TwoLayerNet

    assert TwoLayerNet.fast_block_bytes == sizes.FAST_BLOCK_BYTES
    assert memory.check_base is runtime.check_base is bases.check_base  # one registry of base activations
    assert dual._PAIR_BLOCK_ELEMENTS == sizes.PAIR_BLOCK_ELEMENTS and dual._ANGLE_TEMPORARIES == sizes.ANGLE_TEMPORARIES
    for name in ("FAST_BLOCK_BYTES", "WIDTH_CHUNK", "DEFAULT_QUADRATURE_NODES", "PAIR_BLOCK_ELEMENTS"):
        assert getattr(memory, name) is getattr(sizes, name)


WORKFLOW = PACKAGE.parent / "workflow"


def _workflow_files() -> list[Path]:
    return [PACKAGE.parent / "Snakefile", *sorted(WORKFLOW.glob("rules/*.smk")), *sorted(WORKFLOW.glob("scripts/*.py"))]


def _builds_data_itself(text: str) -> bool:
    """A call of make_dataset, or an import of it (also under another name), in workflow code."""
    return bool(re.search(r"\bmake_dataset\s*\(", text) or re.search(r"import\b[^\n]*\bmake_dataset\b", text))


def test_layout_check_finds_a_direct_make_dataset():
    """The check below on snippets (the regime_table.py line of issue 26, an aliased import, and the allowed form)."""
    assert _builds_data_itself("    X = torch.as_tensor(make_dataset(**spec).X_train)")
    assert _builds_data_itself("from hrta.data import load_dataset, make_dataset as draw")
    assert not _builds_data_itself('X = dataset_from_config(cfg["dataset"]).X_train  # not hrta.data.make_dataset')


def test_workflow_gets_config_data_sets_through_one_library_function():
    """Scripts and rules turn a config data set into data only with hrta.datafiles.dataset_from_config (a user's
    file or a built-in draw, with or without a per-seed draw); a direct make_dataset(**spec) broke every
    `{file: PATH}` data set there (issue 26)."""
    assert len(_workflow_files()) > 20
    offenders = [str(p.relative_to(PACKAGE.parent)) for p in _workflow_files() if _builds_data_itself(p.read_text())]
    assert offenders == []


def test_every_script_imports_job_start_first_and_starts_its_log():
    """Each pipeline script's first statement after its docstring imports hrta.pipeline.job_start (the collector
    paused for the imports), and the script calls job_logger (which resumes it) at module level."""
    offenders = {}
    for path in sorted(WORKFLOW.glob("scripts/*.py")):
        body = ast.parse(path.read_text(encoding="utf-8")).body[1:]  # after the docstring
        first = body[0]
        starts = isinstance(first, ast.Import) and [a.name for a in first.names] == ["hrta.pipeline.job_start"]
        logs = any(
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", "") == "job_logger"
            for node in body
        )
        if not (starts and logs):
            offenders[path.name] = {"imports job_start first": starts, "calls job_logger": logs}
    assert offenders == {}


def test_job_start_pauses_the_collector_until_the_job_log_starts(tmp_path):
    """In a fresh process: off after `import hrta.pipeline.job_start`, off during the imports that follow, on
    again (with the imports' objects frozen) once job_logger has run."""
    code = (
        "import gc, sys\n"
        "import hrta.pipeline.job_start\n"
        "after_import = gc.isenabled()\n"
        "import pandas\n"
        "from hrta.pipeline.joblog import job_logger\n"
        "during = gc.isenabled()\n"
        "job_logger(sys.argv[1])\n"
        "print(after_import, during, gc.isenabled(), gc.get_freeze_count() > 1000)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "job.log")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HRTA_NO_WATCHER": "1"},
    )
    assert out.stdout.split() == ["False", "False", "True", "True"]


# Where code may end the process with a status: the command-line entry points (under `if __name__ == "__main__"`),
# the plan command's check of its Snakemake run, and a job's termination-signal handler (which marks the ending
# abnormal first).
EXITS_WITH_A_STATUS = {("hrta/pipeline/plan.py", "_snakemake"), ("hrta/pipeline/joblog.py", "on_signal")}


def _exits_and_unclosed_opens(path: Path) -> tuple[list[str], list[str]]:
    """The functions (or "<module>") of `path` that raise SystemExit or call sys.exit / os._exit outside an
    `if __name__ == "__main__"` block, and the lines that call open() other than as a `with` item."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    with_items = {id(item.context_expr) for node in ast.walk(tree) if isinstance(node, ast.With) for item in node.items}
    main_blocks = {
        id(node)
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test).replace("'", '"') == '__name__ == "__main__"'
    }
    exits, opens = [], []

    def visit(node, scope: str) -> None:
        if id(node) in main_blocks:
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            scope = node.name
        if (isinstance(node, ast.Raise) and node.exc is not None and "SystemExit" in ast.unparse(node.exc)) or (
            isinstance(node, ast.Call) and ast.unparse(node.func) in ("sys.exit", "exit", "os._exit")
        ):
            exits.append(scope)
        if (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in ("open", "os.fdopen")
            and id(node) not in with_items
        ):
            opens.append(f"line {node.lineno}")
        for child in ast.iter_child_nodes(node):
            visit(child, scope)

    visit(tree, "<module>")
    return exits, opens


def test_job_code_closes_its_files_and_never_exits_with_a_status():
    """What hrta.pipeline.joblog.exit_without_teardown asks of the code a job runs (workflow/scripts and hrta/):
    every open() is a `with` item (a file left open would lose its unflushed data when an orderly job leaves with
    os._exit), and nothing ends the process with SystemExit or sys.exit but the entry points and the places in
    EXITS_WITH_A_STATUS (exit_without_teardown cannot see a status; its own os._exit is the one in it)."""
    files = sorted([*WORKFLOW.glob("scripts/*.py"), *PACKAGE.rglob("*.py")])
    exits, unclosed = set(), {}
    for path in files:
        name = str(path.relative_to(PACKAGE.parent))
        found_exits, found_opens = _exits_and_unclosed_opens(path)
        exits |= {(name, scope) for scope in found_exits}
        if found_opens:
            unclosed[name] = found_opens
    assert unclosed == {}
    assert exits - {("hrta/pipeline/joblog.py", "exit_without_teardown")} == EXITS_WITH_A_STATUS
