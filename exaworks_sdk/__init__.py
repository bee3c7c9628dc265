"""ExaWorks SDK tooling: the manifest, its renderers, and the shared result-record format."""
