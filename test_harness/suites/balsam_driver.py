"""Balsam's client side of the balsam suite, run by the Balsam environment's own Python.

Balsam pins pydantic 1 and lives in its own virtual environment, so the suite (which runs in the
SDK's environment) cannot import it. It runs this script there instead, one step at a time, and
reads the JSON each step prints. Standard library and Balsam only: nothing from the SDK.

    python balsam_driver.py schema             (BALSAM_DATABASE_URL names the database)
    python balsam_driver.py create-tables      (Balsam's own create_tables(), for the suite's check)
    python balsam_driver.py login URL USERNAME PASSWORD
    python balsam_driver.py site SITE_PATH NAME
    python balsam_driver.py submit SITE_PATH COUNT
    python balsam_driver.py wait SITE_PATH JOB_ID... --timeout SECONDS
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

FINAL = {"JOB_FINISHED", "FAILED", "RUN_ERROR", "RUN_TIMEOUT", "KILLED"}
LOCAL_SCHEDULER = "balsam.platform.scheduler.LocalProcessScheduler"
APP_NAME = "SdkHello"


def _emit(data: dict[str, Any]) -> None:
    print(json.dumps(data), flush=True)


def schema() -> None:
    """Balsam's tables from its own SQLAlchemy models, with the one index they cannot create.

    The supported way is `balsam server migrate`, but the PyPI package lacks the migration
    scripts, and `balsam.server.models.create_tables()` fails on the GIN index of jobs.tags
    (both are known incompatibilities in components/balsam.yaml, each checked by its own test).
    So: every table and index from the models except ``ix_jobs_tags``, which is then created
    with the statement Balsam's own initial migration uses.
    """
    from balsam.server.models import Base, get_engine
    from sqlalchemy import text

    jobs = Base.metadata.tables["jobs"]
    for index in [i for i in jobs.indexes if i.name == "ix_jobs_tags"]:
        jobs.indexes.discard(index)
    engine = get_engine()
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE INDEX ix_jobs_tags ON jobs USING gin (tags jsonb_path_ops)"))
    _emit({"tables": sorted(Base.metadata.tables)})


def create_tables() -> None:
    from balsam.server.models import create_tables as balsam_create_tables

    balsam_create_tables()
    _emit({"created": True})


def login(url: str, username: str, password: str) -> None:
    """Register a password user, log in, and save the client settings where the CLI finds them."""
    import requests
    from balsam.client import BasicAuthRequestsClient, urls
    from balsam.config import ClientSettings

    resp = requests.post(url.rstrip("/") + "/" + urls.PASSWORD_REGISTER,
                         json={"username": username, "password": password}, timeout=30)
    resp.raise_for_status()
    client = BasicAuthRequestsClient(url, username=username, password=password)
    client.refresh_auth()
    settings = ClientSettings(api_root=client.api_root, client_class="balsam.client.BasicAuthRequestsClient",
                              token=client.token, token_expiry=client.token_expiry)
    settings.save_to_file()
    _emit({"user": resp.json(), "client_settings": str(ClientSettings.settings_path())})


def site(site_path: str, name: str) -> None:
    """A site from Balsam's own local-machine defaults (the LocalProcessScheduler, no batch system)."""
    from balsam.config import ClientSettings, site_builder

    defaults = site_builder.load_default_configs()
    local = [(path, conf) for path, conf in defaults.items() if conf.scheduler_class == LOCAL_SCHEDULER]
    if not local:
        raise SystemExit(f"no Balsam default site config uses {LOCAL_SCHEDULER}")
    default_path, default_conf = sorted(local, key=lambda item: str(item[0]))[0]
    client = ClientSettings.load_from_file().build_client()
    config = site_builder.new_site_setup(site_path=site_path, name=name, default_site_path=default_path,
                                         default_site_conf=default_conf, client=client)
    _emit({"site_id": config.site_id, "defaults": default_path.name})


def submit(site_path: str, count: int) -> None:
    """Register an app on the site, create jobs for it and a batch job that runs them."""
    from balsam.api import ApplicationDefinition, BatchJob, Job
    from balsam.config import SiteConfig

    config = SiteConfig(site_path)

    class SdkHello(ApplicationDefinition):
        site = config.site_id
        command_template = "echo hello {{ who }} from balsam"

    SdkHello.sync()
    jobs = [Job(workdir=Path(f"sdk/{i}"), app_id=SdkHello.__app_id__, parameters={"who": f"sdk{i}"})
            for i in range(count)]
    jobs = Job.objects.bulk_create(jobs)
    scheduler = config.settings.scheduler
    assert scheduler is not None
    batch = BatchJob.objects.create(num_nodes=1, wall_time_min=5, job_mode="mpi", site_id=config.site_id,
                                    project=scheduler.allowed_projects[0],
                                    queue=next(iter(scheduler.allowed_queues)))
    _emit({"app_id": SdkHello.__app_id__, "job_ids": [job.id for job in jobs], "batch_job_id": batch.id})


def wait(site_path: str, job_ids: list[int], timeout: float) -> None:
    """Poll until every job is final; report states, stdout and the batch jobs' states."""
    from balsam.api import BatchJob, EventLog, Job
    from balsam.config import SiteConfig

    config = SiteConfig(site_path)
    deadline = time.monotonic() + timeout
    while True:
        jobs = list(Job.objects.filter(id=job_ids))
        if jobs and all(job.state in FINAL for job in jobs) or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    report = []
    for job in sorted(jobs, key=lambda j: j.id):
        out = job.resolve_workdir(config.data_path).joinpath("job.out")
        report.append({"id": job.id, "state": job.state, "parameters": job.get_parameters(),
                       "stdout": out.read_text() if out.is_file() else None,
                       "events": [f"{e.from_state}->{e.to_state}" for e in EventLog.objects.filter(job_id=job.id)]})
    batches = [{"id": b.id, "state": b.state} for b in BatchJob.objects.filter(site_id=config.site_id)]
    _emit({"jobs": report, "batch_jobs": batches})


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("schema")
    steps.add_parser("create-tables")
    p = steps.add_parser("login")
    p.add_argument("url")
    p.add_argument("username")
    p.add_argument("password")
    p = steps.add_parser("site")
    p.add_argument("site_path")
    p.add_argument("name")
    p = steps.add_parser("submit")
    p.add_argument("site_path")
    p.add_argument("count", type=int)
    p = steps.add_parser("wait")
    p.add_argument("site_path")
    p.add_argument("job_ids", type=int, nargs="+")
    p.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    if args.step == "schema":
        schema()
    elif args.step == "create-tables":
        create_tables()
    elif args.step == "login":
        login(args.url, args.username, args.password)
    elif args.step == "site":
        site(args.site_path, args.name)
    elif args.step == "submit":
        submit(args.site_path, args.count)
    else:
        wait(args.site_path, args.job_ids, args.timeout)


if __name__ == "__main__":
    main(sys.argv[1:])
