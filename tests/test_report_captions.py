"""Every report caption (workflow/report/*.rst) is valid reStructuredText: Snakemake renders them with docutils,
which reads |x| as a substitution reference (write \\|x\\| for an absolute value). Reference: docutils itself,
with warnings reported."""

import io
from pathlib import Path

import docutils.core
import pytest

CAPTIONS = sorted((Path(__file__).resolve().parents[1] / "workflow" / "report").glob("*.rst"))


def test_there_are_captions():
    assert len(CAPTIONS) >= 10


@pytest.mark.parametrize("path", CAPTIONS, ids=lambda p: p.name)
def test_caption_renders_without_warnings(path):
    warnings = io.StringIO()
    docutils.core.publish_string(
        path.read_text(), writer_name="null", settings_overrides={"warning_stream": warnings, "report_level": 2}
    )
    assert warnings.getvalue() == "", warnings.getvalue()
