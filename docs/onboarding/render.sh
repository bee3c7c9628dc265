# In your checkout of the SDK, with ci/sites/acme.yaml in place:
.venv/bin/sdk validate
.venv/bin/sdk render     # writes ci/generated/gitlab/acme.yml, .gitlab-ci.yml, spack/environments/acme-cobalt/
git add ci/sites/acme.yaml ci/generated/gitlab/acme.yml .gitlab-ci.yml spack/environments/acme-cobalt docs/generated
git commit -m "Add ACME's cobalt and quartz to the site registry"
