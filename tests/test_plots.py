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
