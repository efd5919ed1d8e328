"""Vendor alias clustering: which accounts, on which markets and forums, are the same trafficker.

Pure functions over records (no database): `cluster_accounts(accounts, feedback) -> ClusterResult`.
See docs/clustering.md for the evidence, the scores and the feedback rules.
"""

from __future__ import annotations

from classifiers.vendors.cluster import cluster_accounts, cluster_id_for
from classifiers.vendors.config import DEFAULT_CONFIG, ClusterConfig
from classifiers.vendors.model import Account, Cluster, ClusterResult, Feedback, Link, RecordError

__all__ = ["Account", "Cluster", "ClusterConfig", "ClusterResult", "DEFAULT_CONFIG", "Feedback", "Link",
           "RecordError", "cluster_accounts", "cluster_id_for"]
