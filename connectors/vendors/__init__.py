"""What each helpdesk sends and expects, as pure functions: webhook payloads to contract events."""

from connectors.vendors import chatwoot, freshdesk, jira, zendesk
from connectors.vendors.registry import Vendor

VENDORS: dict[str, Vendor] = {
    vendor.name: vendor for vendor in (zendesk.VENDOR, freshdesk.VENDOR, jira.VENDOR, chatwoot.VENDOR)
}
