"""hrta.plots: the figure style drawn without seaborn is seaborn's theme (the reference: seaborn itself)."""

import json
import subprocess
import sys
import textwrap

import pytest

# In fresh processes (the style is global state): rcParams and one-letter colours after seaborn's set_theme with
# the project's arguments and PROJECT_STYLE, and after hrta.plots.set_style, each from matplotlib's defaults.
STYLE = textwrap.dedent("""
    import json, sys
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    import hrta.plots as P
    if sys.argv[1] == "seaborn":
        import seaborn as sns
        sns.set_theme(context="paper", style="ticks", palette="colorblind", font_scale=0.9)
        plt.rcParams["image.cmap"] = matplotlib.rcParamsDefault["image.cmap"]  # the one key PAPER_THEME leaves out
        plt.rcParams.update(P.PROJECT_STYLE)
    else:
        P.set_style()
    print(json.dumps({
        "rc": {k: repr(v) for k, v in plt.rcParams.items()},
        "codes": {c: mcolors.to_rgb(c) for c in "bgrmyck"},
    }))
""")


def _style(which: str) -> dict:
    out = subprocess.run([sys.executable, "-c", STYLE, which], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_set_style_is_seaborns_paper_theme_without_seaborn():
    ours, reference = _style("hrta"), _style("seaborn")
    differ = {k: (ours["rc"][k], reference["rc"][k]) for k in reference["rc"] if ours["rc"][k] != reference["rc"][k]}
    assert differ == {}
    assert ours["codes"] == reference["codes"]


@pytest.mark.parametrize("n", [1, 6, 10, 11, 25])
def test_palette_is_seaborns_colorblind_palette(n):
    import seaborn as sns

    from hrta.plots import palette

    names = [f"name{i}" for i in range(n)]
    assert list(palette(names).values()) == list(sns.color_palette("colorblind", n_colors=n))
    assert list(palette(names)) == names


def _log_axes_figure():
    """A figure like the pipeline's: constrained layout (hrta.plots.subplots), log axes with mathtext tick
    labels, a legend outside the axes, titles."""
    import numpy as np  # noqa: PLC0415

    from hrta.plots import subplots  # noqa: PLC0415

    fig, axes = subplots(2, 2, panel_height=1.6)
    x = np.geomspace(10, 1e4, 7)
    for i, ax in enumerate(axes.flat):
        ax.plot(x, x ** -(0.5 + i / 4), marker="o", label=f"$s = {i / 2:g}$")
        ax.set(xscale="log", yscale="log", xlabel="width $m$", ylabel=r"$\lambda_{\min}(K_s/n)$", title=f"panel {i}")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center")
    return fig


def test_save_figure_png_is_matplotlibs_own_tight_layout(tmp_path):
    """hrta.pipeline.outputs.save_figure lays the figure out once (hrta.plots.freeze_layout) for every format. The
    reference is matplotlib's own savefig with bbox "tight" and the layout engine on, on a fresh copy of the same
    figure: the PNG is byte-identical; the PDF's page (its tight box) is the same to within a point."""
    import re  # noqa: PLC0415

    from hrta.pipeline.outputs import save_figure  # noqa: PLC0415
    from hrta.plots import _PDF_METADATA, _PNG_METADATA, _pyplot  # noqa: PLC0415

    ours = [tmp_path / "ours.png", tmp_path / "ours.pdf"]
    save_figure(_log_axes_figure(), [str(p) for p in ours], {"key": 1})
    reference = _log_axes_figure()
    reference.savefig(tmp_path / "ref.png", metadata=_PNG_METADATA)
    reference.savefig(tmp_path / "ref.pdf", metadata=_PDF_METADATA)
    _pyplot().close(reference)
    assert ours[0].read_bytes() == (tmp_path / "ref.png").read_bytes()

    def page(path):
        box = re.search(rb"/MediaBox \[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s*\]", path.read_bytes())
        return [float(v) for v in box.groups()]

    assert page(ours[1]) == pytest.approx(page(tmp_path / "ref.pdf"), abs=1.0)
