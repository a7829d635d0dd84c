"""The 15 project roles of the accelerator (source: Key Project Roles page).

This module is the single source of role ids: the catalogue, the settings schemas
(team roster, RBAC mapping, sign-offs) and the front ends all refer to these ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    group: str
    responsibilities: tuple[str, ...]
    aliases: tuple[str, ...] = field(default=())


ROLES: tuple[Role, ...] = (
    Role("group_manager", "Group Manager", "Business leads", (
        "Owns the MLOps process",
        "Creates the group account on the code-hosting platform",
        "Owns the project-template repository and the standard document templates",
    )),
    Role("team_lead", "Team Lead", "Business leads", (
        "Architecture blueprints and guidance",
        "Owns project templates and team utilities",
        "Staffs each project with the right skills",
    )),
    Role("project_lead", "Project Lead", "Business leads", (
        "Provisions the team project in code hosting and Azure ML",
        "Makes key technical decisions (frameworks, libraries)",
    )),
    Role("product_owner", "Product Owner / Business Analyst", "Business leads", (
        "Defines the business use case and success criteria",
        "Business liaison and subject-matter expert",
        "Writes and prioritises user stories",
    ), aliases=("Business Analyst", "Domain Expert")),
    Role("data_engineer", "Data Engineer", "Data science, ML and development", (
        "Pulls data from source systems; cleanses, joins and conforms it",
        "Accountable for data quality and lineage; the only role in the raw (bronze) layer",
        "Builds ingestion and processing pipelines",
    )),
    Role("data_scientist", "Data Scientist", "Data science, ML and development", (
        "Logs experiments and metrics; feature engineering",
        "Model and pipeline development; training and retraining",
        "Model repository; handles data drift",
    )),
    Role("mlops_engineer", "MLOps Engineer", "Data science, ML and development", (
        "CI/CD; promotes code and pipelines across environments",
        "Model and service performance metrics",
        "Productionises models across dev, test and prod",
    ), aliases=("ML Engineer", "Machine Learning Engineer", "AI Engineer")),
    Role("devops_engineer", "DevOps Engineer", "Data science, ML and development", (
        "Provisions environments with infrastructure as code",
        "Embeds MLOps in the wider DevOps lifecycle",
    )),
    Role("data_analyst", "Data Analyst", "Data science, ML and development", (
        "First-pass analysis and reporting",
        "Visualises and presents model results",
    )),
    Role("app_developer", "Application Developer", "Data science, ML and development", (
        "Consumes models through APIs",
        "Unit tests the consuming application",
    )),
    Role("tester", "Tester", "Data science, ML and development", (
        "Automated tests against the model endpoint",
        "Integration testing",
    ), aliases=("Model Validator",)),
    Role("solution_architect", "Solution Architect", "IT infrastructure and platform", (
        "Technical architecture",
        "Technical advice throughout the project",
    )),
    Role("azure_infra_engineer", "Azure Infrastructure Engineer / Administrator",
         "IT infrastructure and platform", (
        "Deploys and configures Azure services per the design",
        "Integrates with the existing estate and on-premises network",
        "Applies Well-Architected standards (cost management, policy governance)",
    ), aliases=("Azure Infrastructure Engineer", "Azure Infrastructure Administrator")),
    Role("project_manager", "Project Manager", "Project management", (
        "Timeline, resourcing, cost, vendors and stakeholders",
    )),
    Role("scrum_master", "Scrum Master", "Project management", (
        "Runs scrum ceremonies, removes blockers, shields the team",
    )),
)

ROLE_IDS: tuple[str, ...] = tuple(r.id for r in ROLES)
ROLES_BY_ID: dict[str, Role] = {r.id: r for r in ROLES}

# A Literal type of every role id, for the settings schemas (JSON Schema gets an enum).
RoleId = Literal[ROLE_IDS]  # type: ignore[valid-type]


def role_name(role_id: str) -> str:
    return ROLES_BY_ID[role_id].name
