# On the dashboard server, with the server's environment (SDK_DASHBOARD_DATABASE_URL): it
# creates or updates a site per machine, then prints one NAME=TOKEN line per machine.
set -a; . /etc/sdk-dashboard.env; set +a
sdk-dashboard tokens issue --facility acme --label gitlab-ci --expires-days 365
