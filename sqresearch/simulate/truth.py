"""The true effects built into the simulated demo data (``TRUTH``), so studies can be checked
against them."""

from __future__ import annotations

TRUTH = {
    "support_tickets": {
        "intervention": "chatbot launch on 2026-04-01 (chat channel only)",
        "chat_frt_ratio": 0.6,  # chat first-response times × 0.6 after the launch
        "chat_fcr_uplift": 0.05,  # +5 points FCR in chat after the launch
        "frt_median_min": {"phone": 2.0, "chat": 4.0, "email": 45.0},
        "ttr_median_h": {"phone": 1.0, "chat": 3.0, "email": 20.0},
    },
    "agent_coaching": {
        "intervention": "coaching programme for every agent between the two periods",
        "csat_uplift": 0.15,  # mean CSAT per agent +0.15 after coaching
        "handle_time_ratio": 0.9,  # average handle time × 0.9
        "qa_pass_before": 0.5, "qa_pass_after": 0.7,  # quality-audit pass probability
    },
    "coaching_trial": {
        "design": "60 agents, half randomized to coaching; scored before and after",
        "csat_effect": 0.2,  # coached agents' mean CSAT +0.2 relative to control
        "handle_time_ratio": 0.92,  # coached agents' handle time × 0.92
    },
    "servqual_survey": {
        "expectation": {"tangibles": 5.4, "reliability": 6.4, "responsiveness": 6.1,
                        "assurance": 6.2, "empathy": 5.8},
        "gap": {"tangibles": -0.3, "reliability": -1.1, "responsiveness": -0.9,
                "assurance": -0.4, "empathy": -0.6},  # P - E, population means
        "importance": {"tangibles": 0.10, "reliability": 0.32, "responsiveness": 0.25,
                       "assurance": 0.18, "empathy": 0.15},
        "management_bias": {"reliability": -0.7, "responsiveness": -0.6},  # gap 1
    },
    "branch_visits": {
        "intervention": "queueing system at branches B01-B04 from 2026-04-01",
        "wait_ratio": 0.7,  # waiting times × 0.7 at adopting branches after adoption
        "adopters": ["B01", "B02", "B03", "B04"],
        "wait_median_min": 8.0,
    },
    "branch_pilot": {
        "design": "12 branches x 16 weeks; a new appointment system piloted at P01 and P02 "
                  "from week 9",
        "wait_ratio": 1.0,  # no true effect on waiting times
        "csat_effect": 0.0,  # no true effect on CSAT
        "note": "branches drift on their own (branch-specific trends and autocorrelated weeks); "
                "the seed is one where the naive clustered t-test calls the pilot a success, "
                "as it does in about a quarter of such null pilots with 2 treated units",
    },
    "flagship_pilot": {
        "design": "16 branches x 28 weeks (simulate.synth.factor_panel): an appointment system "
                  "at the flagship branch FLAG from week 21; 15 donor branches",
        "wait_effect_min": -4.0,  # average waiting time -4.0 minutes in every post week
        "csat_effect": 0.0,  # no effect on CSAT
    },
    "regional_rollout": {
        "design": "24 support regions x 18 months (2024-01 .. 2025-06); a chatbot goes live in "
                  "three waves of 6 regions (months 5, 9 and 13: 2024-05, 2024-09, 2025-01), "
                  "6 regions never",
        "months": 18, "first_month": "2024-01", "waves": [5, 9, 13], "regions_per_wave": 6,
        "never_treated": 6, "frt_median_min": 30.0,
        # log first-response time changes by -(0.09 + 0.036 * min(e, 5)) at e months after
        # go-live: about -9 % in the first month, -24 % from month six on
        "log_effect_first_month": 0.09, "log_effect_growth": 0.036, "growth_months": 5,
        "csat_effect": 0.0,  # no effect on CSAT
    },
}
