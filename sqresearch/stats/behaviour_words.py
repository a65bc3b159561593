"""Behaviour segments in words: a name and a description per cluster, from its profile only.

The rule
--------
A feature is notable for a cluster when the cluster's mean standardised value (``z_<feature>``
of the profile: the centroid in SD units from the mean of all clustered customers, after log1p
of the contact rate) is above +0.8 ("high") or below −0.8 ("low"). The description lists the
notable features, largest |z| first, each with the cluster's value and the overall value in
original units ("4.1 contacts a month (overall 1.2)", "78 % by phone (overall 30 %)"). The name
joins the phrases of the two notable features with the largest |z|, high ones before low ones
("frequent contacts, phone-first"); no notable feature: "typical customers". Equal names get
" (2)", " (3)" in cluster order. Nothing is said that is not a feature of the profile.
"""

from __future__ import annotations

import pandas as pd

THRESHOLD = 0.8
RULE = (f"A feature is 'high' for a segment when the segment's mean standardised value is above "
        f"+{THRESHOLD} SD of all profiled customers, 'low' below −{THRESHOLD} SD (contacts a "
        "month on the log1p scale); the name comes from the two largest such deviations.")


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def _phrases(feature: str) -> tuple[str, str, str]:
    """(high name, low name, value template) of a feature."""
    if feature == "contacts_per_month":
        return "frequent contacts", "rare contacts", "{v:.1f} contacts a month (overall {o:.1f})"
    if feature == "self_service_share":
        return "self-service users", "little self-service", "{v} self-service (overall {o})"
    if feature == "complaint_share":
        return "complainers", "few complaints", "{v} complaints (overall {o})"
    if feature == "tenure_days":
        return ("long-standing", "recent customers",
                "{v:.0f} days since the first contact (overall {o:.0f})")
    if feature.startswith("channel_"):
        name = feature[len("channel_"):]
        return f"{name}-first", f"little {name}", "{v} by " + name + " (overall {o})"
    return f"high {feature}", f"low {feature}", feature + " {v:.3g} (overall {o:.3g})"


def _value(feature: str, template: str, v: float, o: float) -> str:
    if feature.endswith("_share") or feature.startswith("channel_"):
        return template.format(v=_pct(v), o=_pct(o))
    return template.format(v=v, o=o)


def describe_clusters(profile: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Name and describe each cluster of a ``Segmentation.profile``.

    Returns
    -------
    DataFrame, one row per cluster of the profile (the "all" row left out): cluster, size,
    share, name, description, notable (the notable features, largest |z| first). Cluster −1
    is "too few contacts" (not profiled). ``attrs["rule"]``: the rule in words.
    """
    overall = profile.loc[profile["cluster"].astype(str) == "all"].iloc[0]
    z_cols = [c for c in profile.columns if c.startswith("z_")]
    rows, seen = [], {}
    for _, row in profile.loc[profile["cluster"].astype(str) != "all"].iterrows():
        if row["cluster"] == -1:
            rows.append({"cluster": -1, "size": int(row["size"]), "share": row["share"],
                         "name": "too few contacts",
                         "description": "too few tickets to profile; not clustered",
                         "notable": []})
            continue
        zs = {c[2:]: float(row[c]) for c in z_cols if abs(float(row[c])) > threshold}
        order = sorted(zs, key=lambda f: (-abs(zs[f]), f))
        parts = [_value(f, _phrases(f)[2], row[f], overall[f]) for f in order]
        named = sorted(order[:2], key=lambda f: (zs[f] < 0, -abs(zs[f]), f))
        name = ", ".join(_phrases(f)[0 if zs[f] > 0 else 1] for f in named) or \
            "typical customers"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name} ({seen[name]})"
        rows.append({"cluster": int(row["cluster"]), "size": int(row["size"]),
                     "share": row["share"], "name": name,
                     "description": "; ".join(parts) if parts else
                     f"no feature beyond ±{threshold} SD of the overall mean",
                     "notable": order})
    out = pd.DataFrame(rows)
    out.attrs["rule"] = RULE if threshold == THRESHOLD else RULE.replace(
        str(THRESHOLD), str(threshold))
    return out

