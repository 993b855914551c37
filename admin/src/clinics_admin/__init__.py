"""Admin tooling, apart from the runtime kit every service image carries.

`python -m clinics_admin.bootstrap` provisions a database and a broker (roles, users, permissions, the
topology); `python -m clinics_admin.devserver` is `make dev`. Installed in the development venv and in the
image of the one-shot that provisions (deploy/docker/Dockerfile's `migrate` target), never in a service's.
"""
