"""Schedules: grammar, validation messages, s_at / stage_at / boundaries conventions."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hrta.schedules import Schedule, ScheduleError, Stage, parse_schedule

finite_s = st.floats(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False)
stage_strategy = st.builds(
    lambda s0, s1, ramp, steps: Stage(s0, s1 if ramp else s0, steps),
    finite_s,
    finite_s,
    st.booleans(),
    st.integers(min_value=1, max_value=500),
)
schedule_strategy = st.lists(stage_strategy, min_size=1, max_size=6).map(lambda st_: Schedule(tuple(st_)))


def test_parse_constant_stages():
    sched = parse_schedule("0.5x2000,1x8000")
    assert sched.stages == (Stage(0.5, 0.5, 2000), Stage(1.0, 1.0, 8000))
    assert sched.total_steps == 10000
    assert sched.boundaries == [2000]
    assert sched.s_at(0) == 0.5 and sched.s_at(1999) == 0.5
    assert sched.s_at(2000) == 1.0 and sched.s_at(9999) == 1.0
    assert sched.s_at(10000) == 1.0 and sched.s_at(10**9) == 1.0
    assert sched.stage_at(1999) == 0 and sched.stage_at(2000) == 1 and sched.stage_at(50000) == 1


def test_parse_ramp_endpoints_and_midpoint():
    sched = parse_schedule("0.5:1x11,1.5x3")
    assert sched.stages[0] == Stage(0.5, 1.0, 11)
    assert sched.s_at(0) == 0.5
    assert sched.s_at(10) == 1.0
    assert sched.s_at(5) == pytest.approx(0.75, abs=1e-15)
    assert sched.s_at(11) == 1.5
    # After the end: the last stage's final s (a ramp's end value).
    assert parse_schedule("2x3,1:0x4").s_at(7) == 0.0


def test_list_form_equals_string_form():
    from_list = parse_schedule([{"s": 0.5, "steps": 2000}, {"s": [0.5, 1.0], "steps": 1000}, {"s": 1, "steps": 7000}])
    assert from_list == parse_schedule("0.5x2000,0.5:1x1000,1x7000")
    assert parse_schedule(from_list) is from_list


def test_integral_step_spellings_accepted():
    assert parse_schedule("1x1e3").total_steps == 1000
    assert parse_schedule("1x8000").total_steps == 8000
    assert parse_schedule([{"s": 1, "steps": 2.0e3}]).total_steps == 2000


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("", "schedule is empty"),
        ("   ", "schedule is empty"),
        ([], "schedule is empty"),
        ("0.5x10,1.0x-5", "stage 2 '1.0x-5': steps must be a positive integer"),
        ("0.5x0", "stage 1 '0.5x0': steps must be a positive integer"),
        ("0.5x2.5", "stage 1 '0.5x2.5': steps must be a positive integer"),
        ("0.5x1e400", "stage 1 '0.5x1e400': steps must be a positive integer"),
        ("nanx10", "stage 1 'nanx10': s must be finite"),
        ("0.5:infx10", "stage 1 '0.5:infx10': s must be finite"),
        ("0.5x10,", "stage 2 '': expected"),
        ("0.5-10", "stage 1 '0.5-10': expected"),
        ("0.5x10x3", "stage 1 '0.5x10x3': expected"),
        ("0.5:1:2x10", "stage 1 '0.5:1:2x10': expected"),
        ("abcx10", "stage 1 'abcx10': s must be a real number"),
        ([{"s": 1, "steps": 10}, {"s": 1, "step": 10}], "stage 2 {'s': 1, 'step': 10}: unknown key(s) 'step'"),
        ([{"steps": 10}], "stage 1 {'steps': 10}: missing key(s) 's'"),
        ([{"s": [0.5, 1, 2], "steps": 10}], "a ramp's s must have two elements"),
        ([{"s": 1, "steps": True}], "steps must be a positive integer"),
        ([{"s": float("inf"), "steps": 3}], "s must be finite"),
        (3, "schedule must be a string"),
    ],
)
def test_invalid_schedules_quote_the_stage(spec, fragment):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(spec)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_negative_step_rejected():
    sched = parse_schedule("1x3")
    with pytest.raises(ValueError, match="step must be >= 0"):
        sched.s_at(-1)
    with pytest.raises(ValueError, match="step must be >= 0"):
        sched.stage_at(-1)


@settings(max_examples=60, deadline=None)
@given(schedule_strategy)
def test_string_round_trip(sched):
    text = str(sched)
    again = parse_schedule(text)
    assert again == sched
    assert str(again) == text


@settings(max_examples=60, deadline=None)
@given(schedule_strategy)
def test_boundaries_partition_total(sched):
    starts = [0] + sched.boundaries
    assert len(starts) == len(sched.stages)
    assert starts == sorted(starts)
    assert starts[-1] + sched.stages[-1].steps == sched.total_steps
    assert sum(stage.steps for stage in sched.stages) == sched.total_steps
    for k, start in enumerate(starts):
        assert sched.stage_at(start) == k
        if start > 0:
            assert sched.stage_at(start - 1) == k - 1


@settings(max_examples=60, deadline=None)
@given(schedule_strategy)
def test_s_at_piecewise_constant_or_linear(sched):
    starts = [0] + sched.boundaries
    for stage, start in zip(sched.stages, starts):
        values = [sched.s_at(start + j) for j in range(stage.steps)]
        assert values[0] == stage.s_start
        if not stage.is_ramp:
            assert all(v == stage.s_start for v in values)
        elif stage.steps > 1:
            assert values[-1] == stage.s_end
            # Equal increments (linear in the step), up to rounding.
            step = (stage.s_end - stage.s_start) / (stage.steps - 1)
            scale = max(abs(stage.s_start), abs(stage.s_end), 1.0)
            for j, v in enumerate(values):
                assert math.isclose(v, stage.s_start + j * step, rel_tol=0, abs_tol=1e-12 * scale)
    assert sched.s_at(sched.total_steps) == sched.stages[-1].s_end
