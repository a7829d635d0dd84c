"""The maturity radar in stage 1 redraws as levels are chosen."""

from wizard_fixtures import to_settings, wizard, wproject  # noqa: F401

from mlops_accelerator.wizard.radar import radar_svg


def test_radar_updates_as_levels_are_chosen(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    radar = w.radar
    assert "not rated yet" in radar.details.value
    assert radar.add_button.layout.display is None
    radar.add_button.click()
    assert len(w.form.values()["maturity_assessment"]) == 4
    assert radar.add_button.layout.display == "none"
    before = radar.chart.value
    w.form.editor("maturity_assessment.0.current_level").control.value = 2
    after = radar.chart.value
    assert before != after and after.startswith("<svg")
    assert "People 2" in after  # the current point's tooltip
    assert "Overall level: <b>0" in radar.details.value
    for i in range(4):
        w.form.editor(f"maturity_assessment.{i}.current_level").control.value = 1
    assert "Overall level: <b>1" in radar.details.value


def test_radar_svg_is_self_contained():
    svg = radar_svg(["A", "B", "C", "D"], [("Now", [1, 2, None, 4], "#c50f1f")])
    assert svg.startswith("<svg") and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert svg.count("<circle") == 3  # unrated axis has no point


def test_level_dropdowns_name_the_levels(wproject):  # noqa: F811
    w = wizard(wproject, "foundations")
    to_settings(w)
    labels = [label for label, _ in w.form.editor("target_maturity_level").control.options]
    assert "2 · Automated training" in labels
