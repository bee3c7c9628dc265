"""The SDK manifest: one typed model, one loader."""

from exaworks_sdk.manifest.errors import ManifestError, Problem
from exaworks_sdk.manifest.loader import find_root, load_manifest, load_sites
from exaworks_sdk.manifest.model import Component, KnownIncompatibility, Manifest, Release
from exaworks_sdk.manifest.sites import Facility, Machine, SiteEntry, all_sites, find_site, site_id, token_variable

__all__ = [
    "Component", "Facility", "KnownIncompatibility", "Machine", "Manifest", "ManifestError", "Problem", "Release",
    "SiteEntry", "all_sites", "find_root", "find_site", "load_manifest", "load_sites", "site_id", "token_variable",
]
