"""Stage 1, MLOps Foundations: project scope, maturity assessment, team and delivery model.

Design note on `current_maturity_level`: the maturity model rates an organisation at its
weakest dimension, so the current level is derived (`Settings.current_level`) from a
complete assessment. The field stays empty by default and is never filled in on save, so
re-assessing a dimension never leaves a stale number behind; a value may be typed only as
a rough estimate before the assessment is complete, and once it is complete a typed value
must equal the lowest dimension (rule `maturity_current_is_minimum`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Literal

from pydantic import Field

from ..errors import FieldError
from ..naming import ProjectSlug
from ..roles import RoleId
from .base import Email, NonEmptyStr, Record, StageSettings, err, setting
from .shared import pattern_type

Level = Literal[0, 1, 2, 3, 4]
RepoUrl = pattern_type("repo_url", "must be the repository's https:// URL, like https://github.com/contoso/churn",
                       r"https://[^\s/]+/\S+", optional=True)

MATURITY_LEVELS: dict[int, str] = {
    0: "No MLOps",
    1: "DevOps but no MLOps",
    2: "Automated training",
    3: "Automated model deployment",
    4: "Full MLOps automated retraining",
}

DIMENSIONS: dict[str, str] = {
    "people": "People",
    "model_creation": "Model creation",
    "model_release": "Model release",
    "application_integration": "Application integration",
}
Dimension = Literal["people", "model_creation", "model_release", "application_integration"]

# The questionnaire: what each level looks like in each dimension (digest, maturity table).
MATURITY_CRITERIA: dict[str, dict[int, str]] = {
    "people": {
        0: "Data scientists, data engineers and software engineers work in silos; models go 'over the wall'",
        1: "Still siloed",
        2: "Data scientists and data engineers turn experiments into repeatable jobs; software engineers "
           "still siloed",
        3: "Data engineers also work with software engineers, who automate model integration",
        4: "Data scientists and software engineers define markers; software engineers collect "
           "post-deployment metrics",
    },
    "model_creation": {
        0: "Data gathered by hand; unmanaged compute; experiments not tracked; one model file handed over",
        1: "Data pipeline collects automatically; experiments not tracked",
        2: "Automated data pipeline; managed compute; experiments tracked; training code and models "
           "versioned",
        3: "As level 2",
        4: "As level 3, plus retraining triggered automatically from production metrics",
    },
    "model_release": {
        0: "Manual; scoring script written late and not in source control",
        1: "Manual; scoring script probably versioned; handed to software engineers",
        2: "Manual; scoring script versioned with tests; software engineers manage the release",
        3: "Automatic release through CI/CD",
        4: "Automatic release through CI and CI/CD",
    },
    "application_integration": {
        0: "Depends on data-science expertise; every release manual",
        1: "Basic model integration tests; releases automated; application code unit-tested",
        2: "Basic model integration tests; application unit tests",
        3: "Unit and integration tests for every model release",
        4: "As level 3",
    },
}

# Folders a repository created from each template must contain (checked by S1-08).
REPO_TEMPLATE_FOLDERS: dict[str, tuple[str, ...]] = {
    "dstoolkit_mlops_base": ("configuration", "src", "operation", "azure-pipelines", "docs", "notebooks"),
    "tdsp": ("Code", "Docs", "Sample_Data"),
    "custom": (),
}


# ---------------------------------------------------------------------------
# Records


class SuccessCriterion(Record):
    metric: NonEmptyStr = Field(title="Metric", description="e.g. forecast MAPE, hours saved per week")
    target: NonEmptyStr = Field(title="Target", description="e.g. < 8 %")
    owner: str = Field("", title="Owner", description="Who judges it, usually the product owner.")


class MaturityDimension(Record):
    """Where the team stands, and wants to be, in one dimension of the maturity model."""

    dimension: Dimension = Field(title="Dimension")
    current_level: Level = Field(title="Current level")
    target_level: Level = Field(title="Target level")
    evidence: str = Field("", title="Evidence", description="What the rating is based on.")


class TeamMember(Record):
    name: NonEmptyStr = Field(title="Name")
    email: Email = Field(title="E-mail or UPN", description="Used for access control in Stage 2.")
    roles: list[RoleId] = Field(min_length=1, title="Roles", description="A person may hold several roles.")
    ds_type: Literal["professional", "citizen", "not_applicable"] = Field(
        "not_applicable", title="Data scientist type",
        description="Professional (code-first) or citizen (low-code) data scientist.")
    allocation_pct: int = Field(100, ge=0, le=100, title="Allocation %")
    location: str = Field("", title="Location")
    skill_gaps: list[NonEmptyStr] = Field(
        default_factory=list, title="Skill gaps",
        description="Skills this person still needs for their roles; each needs a skilling-plan entry.")


class SkillGap(Record):
    role: RoleId = Field(title="Role")
    skill_gap: NonEmptyStr = Field(title="Skill gap", description="As flagged on the roster, or "
                                   "'staff the role' for a role nobody holds yet.")
    learning_resource: str = Field("", title="Learning resource", description="Course, path or mentor.")
    due_week: int = Field(ge=1, le=52, title="Due (project week)")


TestLevel = Literal["L0", "L1", "L2", "L3"]


# ---------------------------------------------------------------------------
# The settings


class Settings(StageSettings):
    """Stage 1: what the team builds, where it stands, who does what and how it delivers."""

    stage: ClassVar[str] = "foundations"

    # --- S1.T1 Understand DevOps and MLOps --------------------------------------------
    devops_capability_exists: bool = setting(
        False, title="The organisation has a DevOps capability", task="S1.T1",
        help="MLOps builds on DevOps (CI/CD, infrastructure as code, automated tests): without it the "
             "project must also build that capability.")
    devops_capability_evidence: str = setting(
        "", title="DevOps capability: evidence", task="S1.T1",
        help="What shows it, e.g. 'all services deploy through Azure Pipelines with PR policies'.")

    # --- S1.T2 Maturity model: scope, success criteria and assessment ---------------------
    project_name: ProjectSlug = setting(
        "mlops-project", title="Project name", task="S1.T2",
        help="Short lowercase name; it prefixes every Azure resource and asset name, so keep it short.")
    business_use_case: str = setting(
        "", title="Business use case", task="S1.T2",
        help="The business problem the model solves, in a few sentences; the success criteria hang off it.")
    success_criteria: list[SuccessCriterion] = setting(
        default_factory=list, title="Success criteria", task="S1.T2",
        help="Measurable targets that tell the business the project worked.")
    maturity_assessment: list[MaturityDimension] = setting(
        default_factory=list, title="Maturity assessment", task="S1.T2",
        help="Rate each of the four dimensions 0-4, now and at the end of the project; it scopes the work "
             "and draws the maturity radar.")
    current_maturity_level: Level | None = setting(
        None, title="Current maturity level", task="S1.T2",
        help="Leave empty: it is the lowest dimension of the assessment. Type a value only as an "
             "estimate before the assessment is complete.")
    target_maturity_level: Level = setting(
        2, title="Target maturity level", task="S1.T2",
        help="Where the project takes the team; the accelerator aims at 2 (automated training) or 3 "
             "(automated model deployment). 4 is beyond a 12-week project.")

    # --- S1.T3 Team formation ---------------------------------------------------------
    operating_model: Literal["centralised", "federated", "hub_and_spoke"] = setting(
        "centralised", title="Operating model", task="S1.T3", provenance="DERIVED",
        help="Who runs MLOps: one central team, each business unit, or a hub that sets standards for "
             "spokes. It drives the workspace pattern in Stage 2.")
    ai_coe: bool = setting(
        False, title="AI Centre of Excellence", task="S1.T3",
        help="A CoE spreads standards, templates and training across teams.")
    ai_coe_activities: list[Literal["ai_standards", "training_material", "example_templates",
                                    "newsletter_blogs", "community_calls"]] = setting(
        default_factory=list, title="CoE activities", task="S1.T3", help="What the CoE provides.")
    team_roster: list[TeamMember] = setting(
        default_factory=list, title="Team roster", task="S1.T3",
        help="Everyone on the project with their roles; every role a stage needs must have someone "
             "before that stage starts, and Stage 2 maps roles to Azure access.")
    skilling_plan: list[SkillGap] = setting(
        default_factory=list, title="Skilling plan", task="S1.T3",
        help="For each role with a skill gap (or no one yet): what to learn, from where, by when.")

    # --- S1.T4 Delivery model ----------------------------------------------------------
    ds_process_framework: Literal["tdsp", "dslp", "crisp_dm_agile", "custom"] = setting(
        "tdsp", title="Data-science process", task="S1.T4",
        help="TDSP gives a standard project structure; DSLP adds issue templates and data-science "
             "branching; CRISP-DM is usually combined with agile.")
    agile_method: Literal["scrum", "kanban", "other"] = setting(
        "scrum", title="Agile method", task="S1.T4",
        help="Scrum is recommended to start; Kanban works as a visual tool for flow.")
    sprint_length_weeks: int = setting(
        2, title="Sprint length (weeks)", task="S1.T4", ge=1, le=4,
        help="No length is perfect, but keep it the same for every team so they can plan together.")
    source_control_platform: Literal["github", "azure_repos", "gitlab", "bitbucket"] = setting(
        "github", title="Source control", task="S1.T4",
        help="Where the code lives; Azure ML's git tracking works with any of them.")
    cicd_platform: Literal["azure_devops_pipelines", "github_actions"] = setting(
        "azure_devops_pipelines", title="CI/CD platform", task="S1.T4",
        help="Runs every later pipeline; the dstoolkit templates are Azure DevOps pipelines.")
    branching_strategy: Literal["dslp", "dev_main_pr", "github_flow", "git_flow", "trunk_based"] = setting(
        "dev_main_pr", title="Branching strategy", task="S1.T4",
        help="Decides what triggers CI in Stage 5; dev_main_pr: work on 'dev', pull request into a "
             "protected 'main'.")
    repo_template: Literal["dstoolkit_mlops_base", "tdsp", "custom"] = setting(
        "dstoolkit_mlops_base", title="Repository template", task="S1.T4",
        help="The folder skeleton the project repository starts from.")
    repo_url: RepoUrl = setting(  # type: ignore[valid-type]
        "", title="Project repository URL", task="S1.T4", provenance="DERIVED",
        help="The repository created from the template (https://...); Stage 1 checks it exists.")
    test_levels: list[TestLevel] = setting(
        default_factory=lambda: ["L0", "L1", "L2", "L3"], title="Test levels", task="S1.T4",
        help="L0 in-memory unit, L1 unit with SQL or files, L2 functional against a test deployment, "
             "L3 restricted integration against production. They become test gates in Stage 5.")
    test_l0_avg_ms: int = setting(
        60, title="L0 average test time (ms)", task="S1.T4", ge=1,
        help="Fast tests run on every commit; slow ones get skipped.")
    test_l1_avg_ms: int = setting(
        400, title="L1 average test time (ms)", task="S1.T4", ge=1,
        help="Average budget for L1 tests.")
    test_max_seconds: float = setting(
        2.0, title="Longest allowed unit test (s)", task="S1.T4", gt=0,
        help="No single L0/L1 test may take longer.")
    max_active_bugs_per_engineer: int = setting(
        5, title="Bug cap per engineer", task="S1.T4", ge=1,
        help="When an engineer has more active bugs, they fix bugs before new features.")
    language: Literal["python", "r"] = setting(
        "python", title="Language", task="S1.T4",
        help="Templates are written for Python; R is possible but not covered by them.")

    # -----------------------------------------------------------------------------------
    @property
    def assessment_complete(self) -> bool:
        return {d.dimension for d in self.maturity_assessment} >= set(DIMENSIONS)

    @property
    def current_level(self) -> int | None:
        """The current overall level: the lowest dimension, or the typed estimate."""
        if self.assessment_complete:
            return min(d.current_level for d in self.maturity_assessment)
        return self.current_maturity_level

    def cross_field_errors(self) -> Iterator[FieldError]:
        yield from self._maturity_errors()
        emails: set[str] = set()
        for i, m in enumerate(self.team_roster):
            if m.email.lower() in emails:
                yield err(f"team_roster.{i}.email", "roster_email_unique", m.email,
                          f"{m.email} is already on the roster: give that person several roles instead")
            emails.add(m.email.lower())
            if m.ds_type != "not_applicable" and "data_scientist" not in m.roles:
                yield err(f"team_roster.{i}.ds_type", "ds_type_needs_data_scientist", m.ds_type,
                          f"{m.name} is not a data scientist: set not_applicable or add the role")
        if self.cicd_platform == "github_actions" and self.source_control_platform != "github":
            yield err("cicd_platform", "cicd_needs_github", self.cicd_platform,
                      f"GitHub Actions runs only on GitHub repositories, and the code is on "
                      f"{self.source_control_platform}: choose azure_devops_pipelines or move to github")
        if self.ai_coe_activities and not self.ai_coe:
            yield err("ai_coe_activities", "coe_activities_need_coe", self.ai_coe_activities,
                      "there is no AI Centre of Excellence (ai_coe is false) to run these activities")
        if self.test_l1_avg_ms < self.test_l0_avg_ms:
            yield err("test_l1_avg_ms", "test_thresholds_order", self.test_l1_avg_ms,
                      f"L1 tests touch SQL or files and cannot be faster than L0 ({self.test_l0_avg_ms} ms)")
        if self.test_l1_avg_ms > self.test_max_seconds * 1000:
            yield err("test_max_seconds", "test_thresholds_order", self.test_max_seconds,
                      f"must allow the L1 average ({self.test_l1_avg_ms} ms)")

    def _maturity_errors(self) -> Iterator[FieldError]:
        seen: set[str] = set()
        for i, d in enumerate(self.maturity_assessment):
            if d.dimension in seen:
                yield err(f"maturity_assessment.{i}.dimension", "maturity_dimension_unique", d.dimension,
                          f"'{d.dimension}' is assessed twice")
            seen.add(d.dimension)
            if d.target_level < d.current_level:
                yield err(f"maturity_assessment.{i}.target_level", "maturity_target_ge_current",
                          d.target_level,
                          f"{d.dimension}: the target cannot be below the current level ({d.current_level})")
        if self.assessment_complete and self.current_maturity_level is not None:
            lowest = min(self.maturity_assessment, key=lambda d: d.current_level)
            if self.current_maturity_level != lowest.current_level:
                yield err("current_maturity_level", "maturity_current_is_minimum",
                          self.current_maturity_level,
                          f"must equal the lowest dimension ({lowest.dimension}: {lowest.current_level}); "
                          f"leave it empty to derive it")
        current = self.current_level
        if current is not None and self.target_maturity_level < current:
            yield err("target_maturity_level", "maturity_target_ge_current", self.target_maturity_level,
                      f"the target cannot be below the current level ({current})")
        if self.assessment_complete:
            weakest = min(self.maturity_assessment, key=lambda d: d.target_level)
            if self.target_maturity_level > weakest.target_level:
                yield err("target_maturity_level", "maturity_target_reachable", self.target_maturity_level,
                          f"the overall level is the lowest dimension, and {weakest.dimension} only targets "
                          f"{weakest.target_level}: raise that target or lower this one")

