"""A believable, deterministic demo dataset (`manage.py seed_demo`), in DOMAIN.md's vocabulary.

Every number comes from one numpy Generator seeded by `seed`, relative to a fixed "now" (midnight
UTC of `today`), so the same arguments give the same accounts, amounts and timestamps. Bulk
columns (accounts, contacts, background touches, deals) are generated with numpy and written in
bulk - COPY on PostgreSQL, one executemany per table elsewhere - with ids allocated here so that
rows can point at each other without reading anything back. The playbooks then run week by week
through the production services (enrolment, task generation, stage advance), see
`playbooks_simulation`.

The signal the dashboards need is built in on purpose: target accounts get far more touches,
enrolled accounts get the playbook's touches and so respond more than their holdout, and an
opportunity's chance of being created and won rises with the inbound activity of the 90 days before
it, so attribution, lift and holdout comparisons have something to find.
"""

from demo.seeding.catalogue import DEMO_PASSWORD
from demo.seeding.columns import SeedRefused, SeedResult
from demo.seeding.seed import flush_domain_data, seed_demo

__all__ = ["DEMO_PASSWORD", "SeedRefused", "SeedResult", "flush_domain_data", "seed_demo"]
