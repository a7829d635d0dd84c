"""The cached validated settings behind `status`: used when the project file is unchanged, never
when it changed (however it changed), never trusted when damaged, safe with concurrent writers.
And the catalogue's parsed-YAML cache: keyed by the text, repaired when damaged."""

import json
import multiprocessing
import os

import pytest

from mlops_accelerator import settings_cache
from mlops_accelerator.errors import ProjectFileError
from mlops_accelerator.sample import sample_settings
from mlops_accelerator.settings_cache import validated_settings
from mlops_accelerator.workspace import Project


@pytest.fixture
def sample(tmp_path):
    s = sample_settings()
    return Project.create(tmp_path / "proj", s["foundations"]["project_name"], s)


def cache_file(project):
    return project.state_dir / "cache" / "settings.json"


def no_validation(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("validated again although the project file did not change")

    monkeypatch.setattr(Project, "settings_or_errors", refuse)
    monkeypatch.setattr(Project, "read_document", refuse)


def test_an_unchanged_file_is_not_parsed_or_validated_again(sample, monkeypatch):
    first = validated_settings(sample)
    assert cache_file(sample).is_file()
    assert first.stages["foundations"].revision == sample.revision("foundations")
    assert first.stages["design"].effective == sample.effective_settings("design")
    no_validation(monkeypatch)
    again = validated_settings(sample)
    assert again == first


def test_a_hand_edit_is_seen_even_with_the_same_size_and_mtime(sample):
    before = validated_settings(sample)
    assert before.stages["foundations"].errors == []
    text = sample.path.read_text()
    st = sample.path.stat()
    # Same length, same modification time: only the content says it changed.
    edited = text.replace("project_name: contoso-churn", "project_name: contoso-chur_")
    assert edited != text and len(edited) == len(text)
    sample.path.write_text(edited)
    os.utime(sample.path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = validated_settings(sample)
    errors = after.stages["foundations"].errors
    assert errors and errors[0]["field"] == "project_name" and errors[0]["value"] == "contoso-chur_"
    assert after.stages["foundations"].revision != before.stages["foundations"].revision


def test_a_saved_setting_shows_at_once(sample):
    validated_settings(sample)
    sample.set_values("design", {"design_version": "9.9"})
    assert validated_settings(sample).stages["design"].effective["design_version"] == "9.9"


def test_a_broken_file_is_reported_although_a_good_version_was_cached(sample):
    validated_settings(sample)
    good = sample.path.read_text()
    sample.path.write_text(good + "\n  : [unclosed\n")
    with pytest.raises(ProjectFileError):
        validated_settings(sample)
    sample.path.write_text(good)  # back to the cached content: served from the cache again
    assert validated_settings(sample).project_name == "contoso-churn"


@pytest.mark.parametrize("damage", ["", "{not json", '{"format": 1, "key": "x", "stages": {}}', "[]",
                                    '{"format": 1}'])
def test_a_damaged_or_foreign_entry_is_recomputed(sample, damage):
    good = validated_settings(sample)
    cache_file(sample).write_text(damage)
    assert validated_settings(sample) == good
    assert json.loads(cache_file(sample).read_text())["project_name"] == "contoso-churn"  # repaired


def test_an_entry_of_other_code_is_not_used(sample, monkeypatch):
    validated_settings(sample)
    entry = json.loads(cache_file(sample).read_text())
    entry["stages"]["foundations"]["errors"] = [{"field": "x", "rule": "forged", "value": 1, "message": "m"}]
    cache_file(sample).write_text(json.dumps(entry))
    monkeypatch.setattr(settings_cache, "_code_fingerprint", lambda: "another-release")
    assert validated_settings(sample).stages["foundations"].errors == []


def test_the_fingerprint_follows_the_code(tmp_path, monkeypatch):
    settings_cache._code_fingerprint.cache_clear()
    before = settings_cache._code_fingerprint()
    schema = settings_cache.Path(settings_cache.__file__).parent / "settings" / "foundations.py"
    st = schema.stat()
    try:
        os.utime(schema, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        settings_cache._code_fingerprint.cache_clear()
        assert settings_cache._code_fingerprint() != before
    finally:
        os.utime(schema, ns=(st.st_atime_ns, st.st_mtime_ns))
        settings_cache._code_fingerprint.cache_clear()
    assert settings_cache._code_fingerprint() == before


def test_a_project_whose_cache_cannot_be_written_still_has_a_status(sample):
    (sample.state_dir / "cache").write_text("not a folder")  # mkdir fails, as on a read-only disk (even for root)
    assert validated_settings(sample).project_name == "contoso-churn"
    assert validated_settings(sample).stages["foundations"].errors == []
    assert (sample.state_dir / "cache").read_text() == "not a folder"


def _hammer(root: str, n: int) -> list[str]:
    project = Project(root)
    return [validated_settings(project).stages["design"].effective["design_version"] for _ in range(n)]


def test_concurrent_readers_and_writers_always_see_the_file(sample):
    """Processes compute and store at once while the file changes; every answer matches a content
    the file had, the final entry is whole and matches the final file."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        pending = [pool.apply_async(_hammer, (str(sample.root), 5)) for _ in range(3)]
        versions = []
        for i in range(4):
            sample.set_values("design", {"design_version": f"2.{i}"})
            versions.append(f"2.{i}")
        seen = [v for p in pending for v in p.get(timeout=300)]
    assert set(seen) <= {"1.0", *versions} | {sample_settings()["design"].get("design_version", "1.0")}
    final = validated_settings(sample)
    assert final.stages["design"].effective["design_version"] == "2.3"
    entry = json.loads(cache_file(sample).read_text())
    assert entry["stages"]["design"]["effective"]["design_version"] == "2.3"
    assert not [p for p in cache_file(sample).parent.iterdir() if p.name.endswith(".tmp")]


# -- the catalogue's parsed YAML ---------------------------------------------------


def test_the_catalogue_cache_holds_what_the_yaml_says_and_is_repaired(tmp_path, monkeypatch):
    from ruamel.yaml import YAML

    from mlops_accelerator import catalogue

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    text = (settings_cache.Path(catalogue.__file__).with_name("catalogue.yaml")).read_text()
    fresh = YAML(typ="safe").load(text)
    assert catalogue._parsed(text) == fresh
    [cached] = (tmp_path / "mlops-accelerator").glob("catalogue-*.json")
    assert json.loads(cached.read_text()) == fresh
    assert catalogue.build_catalogue(catalogue._parsed(text)) == catalogue.build_catalogue(fresh)
    cached.write_text('{"stages": [')  # damaged: parsed again and rewritten
    assert catalogue._parsed(text) == fresh and json.loads(cached.read_text()) == fresh
    edited = text.replace("Foundations", "Fundamentals", 1)  # another text: another entry
    assert catalogue._parsed(edited) != fresh
    assert len(list((tmp_path / "mlops-accelerator").glob("catalogue-*.json"))) == 2
