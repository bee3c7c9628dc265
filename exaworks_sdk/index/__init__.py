"""Package indexes: what Spack's builtin repo and PyPI offer for every package the SDK names."""
