"""The true effects built into the simulated demo data (``TRUTH``), so studies can be checked
against them."""

from __future__ import annotations

#: the weekly monitor's demo tickets (``simulate.monitor.weekly_monitor``): the desk's steady
#: state and every planted event. Weeks are ISO weeks of the naive local (Asia/Shanghai) opening
#: time; an event runs from ``first_week`` through ``last_week`` inclusive; ``team``/``channel``
#: None means every team/channel. KPI names are those of ``kpi.catalogue.CATALOGUE``.
MONITOR_TRUTH = {
    "design": "a six-team support desk, 56 ISO weeks (2025-W45 .. 2026-W48), about 700 tickets "
              "a week, with six planted events; nothing else differs between teams or channels",
    "seed": 20261130,
    "first_day": "2025-11-03", "last_day": "2026-11-29",  # Monday of 2025-W45, Sunday of W48
    "first_week": "2025-W45", "last_week": "2026-W48", "weeks": 56,
    "data_cut": "2026-11-29 23:59:59",  # replies/solves after it are missing (censored)
    "time_zone": "Asia/Shanghai",  # timestamps are naive local times
    "tickets_per_week": 700,  # an ordinary week before the mix shift
    # relative daily volume Monday .. Sunday (sums to 6) and on a public holiday
    "weekday_weights": [1.15, 1.05, 1.0, 1.0, 0.95, 0.45, 0.40], "holiday_weight": 0.40,
    # mainland China public holidays in the window (make-up working days not simulated)
    "holidays": [["2026-01-01", "2026-01-03"], ["2026-02-15", "2026-02-23"],
                 ["2026-04-04", "2026-04-06"], ["2026-05-01", "2026-05-05"],
                 ["2026-06-19", "2026-06-21"], ["2026-09-25", "2026-09-27"],
                 ["2026-10-01", "2026-10-07"]],
    "hour_peaks": [10.5, 15.5],  # busiest in the 10:00 and 15:00 hours (flatter at weekends)
    "teams": {"north": 0.11, "south": 0.20, "east": 0.27, "west": 0.20, "central": 0.11,
              "online": 0.11},  # share of tickets; the same channel mix in every team
    "channel_shares": {"phone": 0.40, "chat": 0.35, "email": 0.25},  # before the mix shift
    # clocks, log-normal: median and SD of the log; the same in every team and week (but for
    # the events). FRT = first_reply_ts - opened_ts; resolution = solved_ts - opened_ts =
    # FRT + handling, handling x 4 for a "complex" share of tickets
    "frt_median_min": {"phone": 1.0, "chat": 2.5, "email": 180.0},
    "frt_log_sd": {"phone": 0.5, "chat": 0.7, "email": 0.8},
    "handling_median_h": {"phone": 0.5, "chat": 1.5, "email": 16.0}, "handling_log_sd": 0.9,
    "complex_share": 0.10, "complex_factor": 4.0,
    "fcr": 0.78,  # agent_fcr probability in every team and channel but north (event 6)
    "csat_answered": 0.30, "nps_answered": 0.30,  # of solved tickets
    # CSAT, NPS, reopens and complaints depend on the ticket's own FCR, so the FCR events
    # (B, north) carry through to them; nothing depends on the clocks
    "complaint_rate": {"fcr": 0.05, "not_fcr": 0.10},
    "zh_share": 0.60,  # complaint texts written mainly in Chinese; the rest mainly in English
    "mixed_share": 0.25,  # add a sentence of the same theme in the other language
    "pii_share": 0.30,  # complaint texts carrying personal data (email, phones, ID, card, order)
    "order_pattern": r"ORD-\d{10}",
    "events": {
        "deterioration_a": {
            "what": "first-response time x 2.5 for every east x phone ticket",
            "team": "east", "channel": "phone", "kpi": "frt_median", "first_week": "2026-W47",
            "last_week": "2026-W48", "size": 2.5, "scale": "ratio",
            "impact": "largest: excess tickets answered later than the baseline median"},
        "deterioration_b": {
            "what": "agent_fcr 0.78 -> 0.45 for west x chat, one week: exactly round(0.45 n) of "
                    "the cell's n tickets that week are flagged (answered ones)",
            "team": "west", "channel": "chat", "kpi": "fcr", "first_week": "2026-W48",
            "last_week": "2026-W48", "size": 0.45 - 0.78, "scale": "difference",
            "impact": "smaller than A: excess tickets not resolved at first contact"},
        "drift": {
            "what": "resolution time x 1.03 a week, compounded (x 1.03^k in the k-th week)",
            "team": "south", "channel": "email", "kpi": "ttr_median", "first_week": "2026-W30",
            "last_week": "2026-W48", "size": 1.03, "scale": "ratio per week"},
        "mix_shift": {
            "what": "email tickets x 2.4545 (share 25 % -> 45 %), phone and chat volumes and "
                    "every channel's clocks unchanged: overall FRT rises by mix alone",
            "team": None, "channel": "email", "kpi": "frt_median", "first_week": "2026-W44",
            "last_week": "2026-W48", "size": 0.45, "scale": "email share",
            "email_share_before": 0.25},
        "emerging_theme": {
            "what": "a new Chinese complaint theme: the app crashes or freezes on payment",
            "team": None, "channel": None, "kpi": "complaint_text", "first_week": "2026-W46",
            "last_week": "2026-W48", "size": 0.30, "scale": "share of complaint texts",
            "share_by_week": {"2026-W46": 0.10, "2026-W47": 0.20, "2026-W48": 0.30},
            "terms": ["支付", "闪退", "付款", "页面", "卡住"],
            "marker": ["支付", "付款"]},  # every text of the theme holds one; no other text does
        "fading_theme": {
            "what": "English 'password reset' complaints fade, linearly from 25 % of English "
                    "texts (through 2026-W39) to 3 % (2026-W48)",
            "team": None, "channel": None, "kpi": "complaint_text", "first_week": "2026-W40",
            "last_week": "2026-W48", "size": 0.03, "scale": "share of English complaint texts",
            "share_before": 0.25, "terms": ["password", "reset"],
            "marker": ["password reset"]},  # in every text of the theme and in no other
        "better_team": {
            "what": "north's agent_fcr probability is 0.88 all year (others 0.78)",
            "team": "north", "channel": None, "kpi": "fcr", "first_week": "2025-W45",
            "last_week": "2026-W48", "size": 0.88, "scale": "probability"},
    },
}

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
    "weekly_monitor": MONITOR_TRUTH,  # issue 15: the weekly monitor's demo tickets
}
