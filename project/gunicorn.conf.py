"""Gunicorn, the production server: `.venv/bin/gunicorn -c project/gunicorn.conf.py project.wsgi`
from the repository root (README.md, Deploying). Every value can be set from the environment."""

import os
import sys
from pathlib import Path

# Gunicorn reads this file before it puts the working directory on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from support_tools.logsafe import logging_config  # noqa: E402

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
# Keycloak calls time out after KEYCLOAK_TIMEOUT_SECONDS; big work goes to background jobs.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
graceful_timeout = 30
# Proxies whose X-Forwarded-* headers gunicorn believes (Django's own trust is
# SECURE_PROXY_SSL_HEADER, set by DJANGO_BEHIND_TLS_PROXY=1).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Gunicorn's logs go through the project's handler: secrets masked, JSON with LOG_FORMAT=json.
# The access line leaves the query string out (it may name learners; tokens are refused there).
logconfig_dict = logging_config(
    level=os.environ.get("LOG_LEVEL") or "WARNING", fmt=os.environ.get("LOG_FORMAT") or "text"
)
accesslog = "-"
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
