"""Issue 24 (points 8b, 11): variant sources (e3_long, e3_equal_init) as their own strata of a claim, and the
equal-initial-function section's pairing of each variant cell with E3's (hrta.claims.tally)."""

from __future__ import annotations

import pandas as pd
import pytest

from hrta.claims import endpoints as E
from hrta.claims import tally as T

VARIANTS = {"e3_long": "T = 20,000 (e3_long)", "e3_equal_init": "f_0 = 0 (e3_equal_init)"}


def cell(source, treatment, optimizer, word, estimate=1.2, width=1000, lo=1.05, hi=1.4, n=8, claim="4"):
    return {
        "claim": claim,
        "source": source,
        "treatment": treatment,
        "control": "relu",
        "optimizer": optimizer,
        "width": float(width),
        "lr_choice": "",
        "regime": "",
        "cell": "",
        "estimate": estimate,
        "ci_low_holm": lo,
        "ci_high_holm": hi,
        "n": n,
        "word": word,
    }


def test_variant_sources_form_their_own_strata_and_others_keep_theirs():
    cells = pd.DataFrame(
        [
            cell("e3", "hrta_0.5", "adam", T.REVERSED_WORD),
            cell("e3", "hrta_0.5", "adam", T.REVERSED_WORD, width=10000),
            cell("e3_long", "hrta_0.5", "adam", T.HOLDS),
            cell("e3_equal_init", "hrta_0.5", "adam", T.UNDECIDED),
        ]
    )
    out = T.stratum_columns(cells, VARIANTS)
    assert out["variant"].tolist() == ["", "", VARIANTS["e3_long"], VARIANTS["e3_equal_init"]]
    found = {
        s.key: (s.label, s.describe())
        for s in T.strata(out, ["optimizer", "rate", "regime", "base", "variant"], within="width")
    }
    assert list(found) == [
        ("adam", "fixed rate", "", "ReLU", ""),
        ("adam", "fixed rate", "", "ReLU", VARIANTS["e3_long"]),
        ("adam", "fixed rate", "", "ReLU", VARIANTS["e3_equal_init"]),
    ]
    label, text = found[("adam", "fixed rate", "", "ReLU", "")]
    # the empty variant leaves the stratum's description as it was without the factor
    assert label == T.REVERSED_WORD and text.startswith("adam · fixed rate · ReLU: **reversed**")
    assert found[("adam", "fixed rate", "", "ReLU", VARIANTS["e3_long"])][1].startswith(
        "adam · fixed rate · ReLU · T = 20,000 (e3_long): **holds**"
    )
    # without variants (the smoke config before issue 24, any config without the key) every variant is empty
    assert set(T.stratum_columns(cells)["variant"]) == {""}


@pytest.mark.parametrize(
    ("word", "direction"),
    [
        (T.HOLDS, "gain"),
        ("negligible", "gain"),
        (T.REVERSED_WORD, "loss"),
        (T.FAILS, ""),
        (T.UNDECIDED, ""),
        (T.NOT_ESTIMABLE_WORD, ""),
    ],
)
def test_label_direction(word, direction):
    assert T.label_direction(word) == direction


def test_label_direction_rejects_an_unknown_word():
    with pytest.raises(ValueError, match="unknown cell word 'holds in part'"):
        T.label_direction(T.HOLDS_IN_PART)


def test_each_variant_cell_beside_its_reference_and_whether_the_direction_survives():
    ref = [
        cell("e3", "hrta_0.5", "gd", T.HOLDS, 1.5, lo=1.2, hi=1.9),
        cell("e3", "hrta_0.5", "adam", T.REVERSED_WORD, 0.6, lo=0.5, hi=0.8),
        cell("e3", "hrta_1.5", "gd", "negligible", 1.05, lo=1.01, hi=1.09),
        cell("e3", "hrta_1.5", "adam", T.FAILS, 0.97, lo=0.9, hi=1.05),
        cell("e3", "hrta_0.5", "gd", T.HOLDS, 1.4, width=10000),  # no m = 10⁴ variant cell: left out
        cell("e3", "relax", "gd", T.HOLDS, 1.3),  # no variant cell for this treatment
    ]
    var = [
        cell("e3_equal_init", "hrta_0.5", "gd", "negligible", 1.04, lo=1.01, hi=1.08),  # gain → gain
        cell("e3_equal_init", "hrta_0.5", "adam", T.UNDECIDED, 0.9, lo=0.7, hi=1.2),  # loss → none
        cell("e3_equal_init", "hrta_1.5", "gd", T.REVERSED_WORD, 0.8, lo=0.7, hi=0.9),  # gain → loss
        cell("e3_equal_init", "hrta_1.5", "adam", T.HOLDS, 1.3),  # no direction at the reference
        cell("e3_equal_init", "ramp_1.5", "gd", T.HOLDS, 1.3),  # no reference cell: left out
    ]
    others = [cell("e3_long", "hrta_0.5", "adam", T.HOLDS, 2.0)]
    pairs = T.variant_pairs(pd.DataFrame(ref + others + var), "e3", "e3_equal_init")
    assert pairs[["treatment", "optimizer"]].values.tolist() == [
        ["hrta_0.5", "gd"],
        ["hrta_0.5", "adam"],
        ["hrta_1.5", "gd"],
        ["hrta_1.5", "adam"],
    ]
    assert pairs["outcome"].tolist() == [T.SURVIVES, T.DOES_NOT_SURVIVE, T.DOES_NOT_SURVIVE, T.NO_DIRECTION]
    assert pairs["ref_direction"].tolist() == ["gain", "loss", "gain", ""]
    assert pairs["var_direction"].tolist() == ["gain", "", "loss", "gain"]
    first = pairs.iloc[0]
    assert (first.ref_estimate, first.ref_ci_low, first.ref_ci_high, first.ref_n) == (1.5, 1.2, 1.9, 8)
    assert (first.var_estimate, first.var_ci_low, first.var_ci_high, first.var_word) == (1.04, 1.01, 1.08, "negligible")
    assert set(pairs["width"]) == {"1000.0"}
    # a loss that stays a loss survives
    both = [cell("e3", "hrta_0.5", "adam", T.REVERSED_WORD, 0.6), cell("v", "hrta_0.5", "adam", T.REVERSED_WORD, 0.7)]
    assert T.variant_pairs(pd.DataFrame(both), "e3", "v")["outcome"].tolist() == [T.SURVIVES]


def test_variant_pairs_needs_one_reference_cell_per_key_and_its_columns():
    twice = [cell("e3", "hrta_0.5", "gd", T.HOLDS), cell("e3", "hrta_0.5", "gd", T.FAILS)]
    with pytest.raises(ValueError, match="several cells"):
        T.variant_pairs(pd.DataFrame(twice + [cell("v", "hrta_0.5", "gd", T.HOLDS)]), "e3", "v")
    with pytest.raises(ValueError, match=r"lack column\(s\) \['word'\]"):
        T.variant_pairs(pd.DataFrame([cell("e3", "hrta_0.5", "gd", T.HOLDS)]).drop(columns="word"), "e3", "v")
    # nothing to pair: an empty frame with the columns
    empty = T.variant_pairs(pd.DataFrame([cell("e3", "hrta_0.5", "gd", T.HOLDS)]), "e3", "v")
    assert empty.empty and "outcome" in empty.columns


def test_directions_cover_every_word_of_the_effect_rule():
    """Every label the effect rule gives (hrta.claims.endpoints.LABELS) has a word with a direction entry or none."""
    for label in E.LABELS:
        assert T.label_direction(T.WORDS[label]) in ("gain", "loss", "")
