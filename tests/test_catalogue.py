"""The stage catalogue: shape, ids, roles, lookups and load-time validation."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from mlops_accelerator.catalogue import (
    Catalogue,
    CatalogueError,
    Deliverable,
    Stage,
    build_catalogue,
    load_catalogue,
)
from mlops_accelerator.errors import UsageError
from mlops_accelerator.roles import ROLE_IDS

REPO = Path(__file__).resolve().parents[1]
SLUGS = ["foundations", "design", "deploy", "data", "models", "monitor", "migrate"]
# Checklist items per stage in the digest (section 3, "Deliverable checklist" tables): 67 in all.
DIGEST_ITEMS = {1: 8, 2: 11, 3: 10, 4: 9, 5: 11, 6: 10, 7: 8}


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.fixture()
def raw() -> dict:
    from ruamel.yaml import YAML

    text = resources.files("mlops_accelerator").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    return YAML(typ="safe").load(text)


def documented_task_ids() -> list[str]:
    text = (REPO / "docs" / "task-ids.md").read_text(encoding="utf-8")
    return re.findall(r"^\|\s*(S\d+\.T\d+)\s*\|", text, flags=re.MULTILINE)


# --- shape ------------------------------------------------------------------------------------


def test_seven_stages_in_order(cat: Catalogue) -> None:
    assert [s.number for s in cat.stages] == [1, 2, 3, 4, 5, 6, 7]
    assert [s.slug for s in cat.stages] == SLUGS
    assert [s.id for s in cat.stages] == [f"S{n}" for n in range(1, 8)]
    for s in cat.stages:
        assert s.title and s.purpose and s.outcome and s.tasks and s.produces
        assert isinstance(s.roles, tuple) and isinstance(s.tasks, tuple) and isinstance(s.produces, tuple)


def test_stage_weeks_fit_the_twelve_week_plan(cat: Catalogue) -> None:
    for s in cat.stages:
        start, end = s.weeks
        assert 1 <= start <= end <= 12, s.slug
    starts = [s.weeks[0] for s in cat.stages]
    assert starts == sorted(starts)
    assert cat.stage("design").outcome == "Approved Solution Design"


def test_task_ids_match_the_documented_list_exactly(cat: Catalogue) -> None:
    documented = documented_task_ids()
    assert len(documented) == 38  # sanity check of the markdown parsing
    assert [t.id for s in cat.stages for t in s.tasks] == documented
    for s in cat.stages:
        assert all(t.id.startswith(f"S{s.number}.T") for t in s.tasks)
        assert all(t.title and t.summary and t.roles for t in s.tasks)


def test_every_digest_checklist_item_is_present_with_stable_ids(cat: Catalogue) -> None:
    items = cat.deliverables
    assert len(items) >= 67
    assert len({d.id for d in items}) == len(items)
    for s in cat.stages:
        ids = [d.id for d in s.deliverables]
        expected = [f"S{s.number}-{k:02d}" for k in range(1, DIGEST_ITEMS[s.number] + 1)]
        assert ids[: len(expected)] == expected
        assert all(d.stage == s.number and d.id.startswith(f"S{s.number}-") for d in s.deliverables)
    assert items == tuple(d for s in cat.stages for d in s.deliverables)


def test_provenance_follows_the_digest(cat: Catalogue) -> None:
    # Stages 1-3 have checklists in microsoft/main (S1-01..05, S2-01..08, S3-01..06); the rest is derived.
    from_source = {f"S1-{k:02d}" for k in range(1, 6)} | {f"S2-{k:02d}" for k in range(1, 9)} \
        | {f"S3-{k:02d}" for k in range(1, 7)}
    for d in cat.deliverables:
        assert d.provenance == ("SRC-MS" if d.id in from_source else "DERIVED"), d.id


# --- verification -----------------------------------------------------------------------------


def test_verification_kinds_are_consistent(cat: Catalogue) -> None:
    for d in cat.deliverables:
        assert d.verification in ("auto", "signoff", "auto+signoff"), d.id
        assert d.is_auto == (d.verification != "signoff")
        assert d.needs_signoff == (d.verification != "auto")
        assert bool(d.check) == d.is_auto, d.id
        assert bool(d.signoff_roles) == d.needs_signoff, d.id


def test_every_signoff_item_has_allowed_roles_from_that_stage(cat: Catalogue) -> None:
    signoffs = [d for d in cat.deliverables if d.needs_signoff]
    assert signoffs
    for d in signoffs:
        assert d.signoff_roles, d.id
        assert set(d.signoff_roles) <= set(cat.stage(d.stage).roles), d.id


@pytest.mark.parametrize(("item", "kind", "signers"), [
    ("S1-01", "signoff", {"team_lead"}),
    ("S1-03", "auto+signoff", {"group_manager"}),
    ("S1-04", "auto", set()),
    ("S2-04", "auto+signoff", {"team_lead", "solution_architect", "product_owner"}),
    ("S2-05", "auto+signoff", {"solution_architect"}),  # AUTO text adds a HUMAN review
    ("S4-06", "auto+signoff", {"data_engineer", "data_scientist"}),
    ("S5-10", "auto+signoff", {"product_owner", "tester"}),
    ("S7-06", "auto+signoff", {"mlops_engineer"}),
    ("S7-08", "signoff", {"mlops_engineer", "product_owner"}),
])
def test_digest_verification_codes(cat: Catalogue, item: str, kind: str, signers: set[str]) -> None:
    d = cat.deliverable(item)
    assert d.verification == kind
    assert set(d.signoff_roles) == signers


def test_conditional_items(cat: Catalogue) -> None:
    labeling = cat.deliverable("S4-03").condition
    assert (labeling.stage, labeling.setting, labeling.equals) == ("data", "labeling_required", True)
    edge = cat.deliverable("S2-11").condition
    assert (edge.stage, edge.setting, edge.equals) == ("design", "inference_mode", "edge")
    assert cat.deliverable("S2-04").condition is None
    # Readable as the YAML mapping too (the deliverables module and JSON output use it that way).
    assert dict(labeling) == {"stage": "data", "setting": "labeling_required", "equals": True}
    assert edge["setting"] == "inference_mode" and edge.get("equals") == "edge"
    for d in cat.deliverables:
        if d.condition:
            assert d.condition.stage in SLUGS


def test_cutover_approval_waits_for_parity(cat: Catalogue) -> None:
    assert cat.deliverable("S7-08").signoff_after == ("S7-07",)
    assert all(not d.signoff_after for d in cat.deliverables if d.id != "S7-08")


def test_mandatory_defaults_to_true(cat: Catalogue) -> None:
    assert cat.deliverable("S2-04").mandatory is True
    assert sum(not d.mandatory for d in cat.deliverables) < 5


# --- roles ------------------------------------------------------------------------------------


def test_every_role_id_used_exists(cat: Catalogue) -> None:
    used = {r for s in cat.stages for r in s.roles}
    used |= {r for s in cat.stages for t in s.tasks for r in t.roles}
    used |= {r for d in cat.deliverables for r in d.signoff_roles}
    assert used <= set(ROLE_IDS)


def test_every_role_takes_part_in_some_stage(cat: Catalogue) -> None:
    for role in ROLE_IDS:
        assert cat.stages_for_role(role), role
    # "Everyone" in stage 1 means every role.
    assert set(cat.stage(1).roles) == set(ROLE_IDS)


def test_stage_roles_are_the_union_of_its_task_roles(cat: Catalogue) -> None:
    for s in cat.stages:
        assert set(s.roles) == {r for t in s.tasks for r in t.roles}, s.slug


def test_role_gaps_are_resolved(cat: Catalogue) -> None:
    def numbers(role: str) -> list[int]:
        return [s.number for s in cat.stages_for_role(role)]

    assert {2, 5, 7} <= set(numbers("product_owner"))
    assert {5, 6} <= set(numbers("tester"))
    assert 6 in numbers("data_scientist")
    assert "data_scientist" in cat.task("S6.T2").roles
    assert numbers("mlops_engineer") == [1, 3, 5, 6, 7]


def test_stages_for_unknown_role_is_a_usage_error(cat: Catalogue) -> None:
    with pytest.raises(UsageError, match="mlops_engineer"):
        cat.stages_for_role("wizard")


# --- lookups ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [3, "3", " 3 ", "deploy", "Deploy", "S3", "s3"])
def test_stage_lookup(cat: Catalogue, key: int | str) -> None:
    stage = cat.stage(key)
    assert isinstance(stage, Stage)
    assert (stage.number, stage.slug) == (3, "deploy")


@pytest.mark.parametrize("key", [0, 8, "8", "S9", "deployment", "", True])
def test_unknown_stage_names_valid_stages(cat: Catalogue, key: object) -> None:
    with pytest.raises(UsageError) as info:
        cat.stage(key)  # type: ignore[arg-type]
    message = str(info.value)
    assert repr(key) in message
    for number, slug in enumerate(SLUGS, start=1):
        assert f"{number} ({slug})" in message


def test_deliverable_lookup_is_case_insensitive(cat: Catalogue) -> None:
    item = cat.deliverable("s2-04")
    assert isinstance(item, Deliverable)
    assert item is cat.deliverable("S2-04")
    assert item.stage == 2


@pytest.mark.parametrize("item", ["S2-99", "S8-01", "design", ""])
def test_unknown_deliverable_names_valid_ids(cat: Catalogue, item: str) -> None:
    with pytest.raises(UsageError) as info:
        cat.deliverable(item)
    assert "S1-01..S1-08" in str(info.value)
    assert "S7-01..S7-08" in str(info.value)


def test_task_lookup(cat: Catalogue) -> None:
    assert cat.task("s2.t9").id == "S2.T9"
    with pytest.raises(UsageError, match="S1.T1"):
        cat.task("S2.T99")


def test_catalogue_is_loaded_once_and_frozen(cat: Catalogue) -> None:
    assert load_catalogue() is cat
    with pytest.raises(AttributeError):
        cat.stage(1).title = "changed"  # type: ignore[misc]


def test_importing_the_module_does_not_import_the_yaml_parser() -> None:
    code = "import sys, mlops_accelerator.catalogue; assert 'ruamel.yaml' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)


# --- validation at load -------------------------------------------------------------------------


def test_raw_data_builds(raw: dict) -> None:
    assert build_catalogue(raw) == load_catalogue()


def _item(raw: dict, item_id: str) -> dict:
    stage = int(item_id[1])
    return next(d for d in raw["stages"][stage - 1]["deliverables"] if d["id"] == item_id)


def _break(raw: dict, how: str) -> dict:
    data = copy.deepcopy(raw)
    if how == "unknown role":
        data["stages"][1]["tasks"][0]["roles"].append("wizard")
    elif how == "unknown signoff role":
        _item(data, "S2-04")["signoff_roles"] = ["team_lead", "chief"]
    elif how == "duplicate item":
        data["stages"][1]["deliverables"][1]["id"] = "S2-01"
    elif how == "duplicate task":
        data["stages"][1]["tasks"][1]["id"] = "S2.T1"
    elif how == "bad task id":
        data["stages"][1]["tasks"][0]["id"] = "S2-T1"
    elif how == "task in wrong stage":
        data["stages"][1]["tasks"][0]["id"] = "S3.T9"
    elif how == "signoff without roles":
        del _item(data, "S2-01")["signoff_roles"]
    elif how == "auto without check":
        del _item(data, "S2-03")["check"]
    elif how == "unknown verification":
        _item(data, "S2-03")["verification"] = "magic"
    elif how == "unknown field":
        _item(data, "S2-03")["signoff_role"] = ["team_lead"]
    elif how == "signoff role outside stage":
        _item(data, "S2-01")["signoff_roles"] = ["scrum_master"]
    elif how == "condition on unknown stage":
        _item(data, "S2-11")["condition"]["stage"] = "edge"
    elif how == "stages out of order":
        data["stages"][0], data["stages"][1] = data["stages"][1], data["stages"][0]
    elif how == "weeks beyond plan":
        data["stages"][6]["weeks"] = [10, 14]
    elif how == "signoff after a sign-off item":
        _item(data, "S7-08")["signoff_after"] = ["S7-06", "S2-01"]
    elif how == "signoff after on an auto item":
        _item(data, "S7-07")["signoff_after"] = ["S7-03"]
    return data


@pytest.mark.parametrize(("how", "named"), [
    ("unknown role", "wizard"),
    ("unknown signoff role", "S2-04"),
    ("duplicate item", "S2-01"),
    ("duplicate task", "S2.T1"),
    ("bad task id", "S2-T1"),
    ("task in wrong stage", "S3.T9"),
    ("signoff without roles", "S2-01"),
    ("auto without check", "S2-03"),
    ("unknown verification", "S2-03"),
    ("unknown field", "signoff_role"),
    ("signoff role outside stage", "scrum_master"),
    ("condition on unknown stage", "S2-11"),
    ("stages out of order", "stage #1"),
    ("weeks beyond plan", "stage 7.weeks"),
    ("signoff after a sign-off item", "S7-08.signoff_after: S2-01"),
    ("signoff after on an auto item", "S7-07"),
])
def test_malformed_catalogue_is_rejected_naming_the_entry(raw: dict, how: str, named: str) -> None:
    with pytest.raises(CatalogueError) as info:
        build_catalogue(_break(raw, how))
    assert named in str(info.value)
