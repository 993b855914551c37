"""Run 8's pure parts: the answers a parent gives per page, the form's own time per page, the web service's RSS."""

from __future__ import annotations

from bench.__main__ import _derive
from bench.parents import _answers, _means


def test_a_health_page_is_answered_no_to_every_question_it_asks() -> None:
    html = (
        '<input class="nhsuk-radios__input" id="a" name="health-flu-asthma" type="radio" value="yes">'
        '<input type="radio" name="health-flu-allergy" value="no">'
    )
    assert _answers(3, "health-flu", html) == {"health-flu-asthma": "no", "health-flu-allergy": "no"}


def test_each_parent_types_their_own_childs_name() -> None:
    assert _answers(7, "name", "")["last_name"] == "Bench7"
    assert _answers(7, "contact", "")["email"] == "parent7@example.com"


def test_the_forms_time_per_page_counts_only_what_came_after_the_first_reading() -> None:
    before = {"sum GET name": 1.0, "count GET name": 10.0}
    after = {"sum GET name": 3.0, "count GET name": 30.0, "sum POST name": 0.5, "count POST name": 5.0}
    assert _means(before, after) == {"GET name": 100.0, "POST name": 100.0}


def test_the_web_services_peak_joins_the_largest_rss_figures() -> None:
    results = {
        "cohort_peak_rss_mb": {"cohort": 100.0},
        "parents_peak_rss_mb": {"consent_form": 101.0, "cohort": 90.0},
        "parents_rss_sampled_mb": {"consent_form": 109.0},
    }
    _derive(results)
    assert results["rss_mb_max"] == {"cohort": 100.0, "consent_form": 109.0}
