"""Sample reports for the OpenAPI document (Swagger UI's and ReDoc's sample answers).

Real answers of the demo data set (``ipcp-api seed --demo``) as of 2017-06-30, every list cut
to its first row, so that the figures agree with each other (34 % done where 53 % was due,
five milestones overdue, one by more than 30 days: ``late``). tests/reports/test_formats.py
checks that each one is valid for its schema.
"""

from __future__ import annotations

from typing import Any

PROGRAMME: dict[str, Any] = {
    "as_of": "2017-06-30",
    "programme": {
        "id": 1,
        "code": "BHR-IPCP-2016",
        "title": "NATO–Bahrain Individual Partnership and Cooperation Programme 2016–2018",
        "status": "completed",
        "starts_on": "2016-06-01",
        "ends_on": "2018-06-30",
        "partner": {"id": 1, "code": "BHR", "name": "Kingdom of Bahrain (مملكة البحرين)"},
    },
    "summary": {
        "projects": 13,
        "milestones": 31,
        "milestones_done": 12,
        "milestones_overdue": 5,
        "progress": 0.3396,
        "expected_progress": 0.5283,
        "variance": -0.1887,
        "schedule": "late",
    },
    "pillars": [
        {
            "pillar": {
                "id": 1,
                "code": "political-diplomatic",
                "name": "Political and diplomatic cooperation",
            },
            "projects": 4,
            "milestones": 10,
            "milestones_done": 4,
            "milestones_overdue": 3,
            "progress": 0.3125,
            "expected_progress": 0.625,
            "variance": -0.3125,
            "schedule": "late",
        }
    ],
    "projects": [
        {
            "id": 1,
            "code": "PD-01",
            "title": "28+1 review cycle with the Partnerships and Cooperative Security Committee",
            "pillar_id": 1,
            "status": "completed",
            "projects": 1,
            "milestones": 3,
            "milestones_done": 1,
            "milestones_overdue": 1,
            "progress": 0.2,
            "expected_progress": 0.6,
            "variance": -0.4,
            "schedule": "behind",
            "next_due_on": "2018-06-15",
        }
    ],
    "overdue": [
        {
            "milestone_id": 10,
            "project_id": 4,
            "title": "Media visit to NATO Headquarters",
            "due_on": "2017-03-31",
            "days_overdue": 91,
        }
    ],
    "upcoming": [
        {
            "milestone_id": 32,
            "project_id": 12,
            "title": "CBRN awareness course",
            "due_on": "2017-07-20",
        }
    ],
    "reviews": {
        "last": {
            "id": 1,
            "held_on": "2016-06-01",
            "committee": {
                "id": 1,
                "code": "PCSC",
                "name": "Partnerships and Cooperative Security Committee",
            },
            "format": "allies_plus_partner",
            "format_label": "28+1",
            "status": "closed",
        },
        "next": {
            "id": 2,
            "held_on": "2017-07-10",
            "committee": {
                "id": 1,
                "code": "PCSC",
                "name": "Partnerships and Cooperative Security Committee",
            },
            "format": "allies_plus_partner",
            "format_label": "28+1",
            "status": "planned",
        },
        "milestones_done_since_last": 11,
    },
    "actions": {
        "open": 2,
        "overdue": 1,
        "items": [
            {
                "id": 4,
                "review_id": 1,
                "title": "Propose dates for the second round of staff talks (illustrative)",
                "owner": "NATO International Military Staff",
                "owner_side": "alliance",
                "due_on": "2017-03-31",
                "days_overdue": 91,
            },
            {
                "id": 5,
                "review_id": 1,
                "title": "Confirm the participants in the Regional Centre's course series"
                " (illustrative)",
                "owner": "Ministry of Foreign Affairs",
                "owner_side": "partner",
                "due_on": "2017-09-30",
                "days_overdue": None,
            },
        ],
    },
}

PARTNER: dict[str, Any] = {
    "as_of": "2017-06-30",
    "partner": {"id": 1, "code": "BHR", "name": "Kingdom of Bahrain (مملكة البحرين)"},
    "summary": {
        "projects": 16,
        "milestones": 37,
        "milestones_done": 12,
        "milestones_overdue": 5,
        "progress": 0.2951,
        "expected_progress": 0.459,
        "variance": -0.1639,
        "schedule": "late",
    },
    "pillars": [
        {
            "pillar": {
                "id": 1,
                "code": "political-diplomatic",
                "name": "Political and diplomatic cooperation",
            },
            "projects": 5,
            "milestones": 12,
            "milestones_done": 4,
            "milestones_overdue": 3,
            "progress": 0.2632,
            "expected_progress": 0.5263,
            "variance": -0.2632,
            "schedule": "late",
        }
    ],
    "programmes": [
        {
            "programme": {
                "id": 1,
                "code": "BHR-IPCP-2016",
                "title": "NATO–Bahrain Individual Partnership and Cooperation Programme 2016–2018",
                "status": "completed",
            },
            "projects": 13,
            "milestones": 31,
            "milestones_done": 12,
            "milestones_overdue": 5,
            "progress": 0.3396,
            "expected_progress": 0.5283,
            "variance": -0.1887,
            "schedule": "late",
        }
    ],
}

PORTFOLIO: dict[str, Any] = {
    "as_of": "2017-06-30",
    "summary": {
        "projects": 22,
        "milestones": 49,
        "milestones_done": 18,
        "milestones_overdue": 7,
        "progress": 0.3544,
        "expected_progress": 0.5316,
        "variance": -0.1772,
        "schedule": "late",
    },
    "pillars": [
        {
            "pillar": {
                "id": 1,
                "code": "political-diplomatic",
                "name": "Political and diplomatic cooperation",
            },
            "projects": 6,
            "milestones": 14,
            "milestones_done": 6,
            "milestones_overdue": 3,
            "progress": 0.4167,
            "expected_progress": 0.625,
            "variance": -0.2083,
            "schedule": "late",
        }
    ],
    "partners": [
        {
            "partner": {
                "id": 4,
                "code": "ARE",
                "name": "United Arab Emirates (الإمارات العربية المتحدة)",
            },
            "programmes": 1,
            "projects": 2,
            "milestones": 4,
            "milestones_done": 1,
            "milestones_overdue": 1,
            "progress": 0.2,
            "expected_progress": 0.6,
            "variance": -0.4,
            "schedule": "late",
        }
    ],
}
