"""The maturity radar in stage 1 redraws as levels are chosen (sent to the form under task S1.T2)."""

from wizard_fixtures import to_settings, wizard, wproject  # noqa: F401

from mlops_accelerator.wizard.radar import radar_svg

DIMENSIONS = ("people", "model_creation", "model_release", "application_integration")


def test_radar_updates_as_levels_are_chosen(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    before = w.app.task_extras["S1.T2"]
    assert "not rated yet" in before and "Rate all four dimensions" in before
    w.edit("maturity_assessment", [{"dimension": d, "current_level": 0, "target_level": 2, "evidence": ""}
                                   for d in DIMENSIONS])
    w.edit("maturity_assessment.0.current_level", 2)
    after = w.app.task_extras["S1.T2"]
    assert before != after and "<svg" in after
    assert "People 2" in after  # the current point's tooltip
    assert "Overall level: <b>0" in after
    for i in range(4):
        w.edit(f"maturity_assessment.{i}.current_level", 1)
    assert "Overall level: <b>1" in w.app.task_extras["S1.T2"]


def test_radar_svg_is_self_contained_and_themed():
    svg = radar_svg(["A", "B", "C", "D"], [("Now", [1, 2, None, 4], "var(--jp-error-color1)")])
    assert svg.startswith("<svg") and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert svg.count("<circle") == 3  # unrated axis has no point
    assert 'fill="#' not in svg and "#fff;" not in svg  # colours come from the theme


def test_level_choices_name_the_levels(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    node = w.app.schema["properties"]["target_maturity_level"]
    assert node["x-enum-labels"]["2"] == "2 · Automated training"
