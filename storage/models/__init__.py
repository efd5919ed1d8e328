"""The whole data model. Import from here: `from storage.models import Listing`."""

from storage.models.access import ApiToken, AuditLog, Role, User, UserRole
from storage.models.base import Base, UTCDateTime, utcnow
from storage.models.clusters import ClusterFeedback, ClusterLink, ClusterMember, VendorCluster
from storage.models.crawl import CrawlError, CrawlRun, Page, Site, WarcFile
from storage.models.forum import Post, Thread
from storage.models.holds import HOLD_KINDS, CaseHold
from storage.models.market import Listing, ListingSnapshot, ListingSubstance, VendorAccount, VendorIdentifier
from storage.models.ops import Alert, JobRun, Schedule

__all__ = [
    "Alert", "ApiToken", "AuditLog", "Base", "CaseHold", "HOLD_KINDS", "ClusterFeedback", "ClusterLink", "ClusterMember", "CrawlError",
    "CrawlRun", "JobRun", "Listing", "ListingSnapshot", "ListingSubstance", "Page", "Post", "Role",
    "Schedule", "Site", "Thread", "User", "UserRole", "UTCDateTime", "VendorAccount", "VendorCluster",
    "VendorIdentifier", "WarcFile", "utcnow",
]
