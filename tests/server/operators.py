"""The operator's side of the end-to-end test, for either host: spotopt-server's
management API over HTTP, or the Python binding on the host's database (the Python
host has no management API; operators use the binding, which shares the SQLite file
with the serving process). Both give the same record shapes, because both render
them with the library's one set of JSON views; a refusal raises Refused with the
HTTP status the management API would answer."""


class Refused(Exception):
    def __init__(self, status, text):
        super().__init__(f"{status}: {text}")
        self.status = status


def refused(status, call):
    """Asserts that `call()` is refused with `status`."""
    try:
        result = call()
    except Refused as e:
        assert e.status == status, e
        return
    raise AssertionError(f"expected a {status} refusal, got {result}")


class AdminApiOperator:
    """spotopt-server's /api/admin/ routes with an operator token."""

    settle_seconds = 0  # the serving process made the change itself: seen at once

    def __init__(self, session, base, token):
        self.s, self.base = session, f"{base}/api/admin"
        self.h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def _call(self, method, path, ok=200, **kwargs):
        r = self.s.request(method, f"{self.base}{path}", headers=self.h, **kwargs)
        assert r.headers["Content-Type"].startswith("application/json"), r.headers
        if r.status_code >= 400:
            raise Refused(r.status_code, r.text)
        assert r.status_code == ok, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def tenant_id(self, name):
        return next(t["id"] for t in self._call("GET", "/tenants")["tenants"]
                    if t["name"] == name)

    def agents(self, tenant):
        return self._call("GET", f"/tenants/{tenant}/agents")["agents"]

    def agent(self, tenant, agent):
        return self._call("GET", f"/tenants/{tenant}/agents/{agent}")

    def put_config(self, tenant, agent, text, expected_version=None):
        query = "" if expected_version is None else f"?expected_version={expected_version}"
        return self._call("PUT", f"/tenants/{tenant}/agents/{agent}/config{query}", data=text)

    def switch(self, tenant, agent, **body):
        return self._call("POST", f"/tenants/{tenant}/agents/{agent}/switch", 201, json=body)

    def commands(self, tenant, agent):
        return self._call("GET", f"/tenants/{tenant}/agents/{agent}/commands")["commands"]

    def request_replica(self, tenant, agent):
        return self._call("POST", f"/tenants/{tenant}/agents/{agent}/replicas", 201, json={})

    def promote(self, tenant, agent, replica):
        return self._call("POST", f"/tenants/{tenant}/agents/{agent}/replicas/{replica}/promote",
                          json={})

    def events(self, tenant, agent):
        return self._call("GET", f"/tenants/{tenant}/agents/{agent}/events")["events"]

    def incidents(self, tenant, agent):
        return self._call("GET", f"/tenants/{tenant}/agents/{agent}/incidents")["incidents"]

    def suspend(self, tenant):
        return self._call("POST", f"/tenants/{tenant}/suspend")

    def reactivate(self, tenant):
        return self._call("POST", f"/tenants/{tenant}/reactivate")


class BindingOperator:
    """The Python binding on the host's SQLite database, in this process."""

    # The serving process may answer from its token cache for a few seconds after a
    # tenant change made here (ControllerOptions::auth_cache_ttl).
    settle_seconds = 10

    def __init__(self, db):
        import spotopt  # only this operator needs the binding on the path
        self.spotopt = spotopt
        self.c = spotopt.Controller(f"sqlite:{db}")
        self.statuses = {spotopt.InvalidArgument: 400, spotopt.Unauthenticated: 401,
                         spotopt.PermissionDenied: 403, spotopt.NotFound: 404,
                         spotopt.FailedPrecondition: 409, spotopt.Unavailable: 503}

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except self.spotopt.SpotoptError as e:
            raise Refused(self.statuses.get(type(e), 500), str(e)) from e

    def close(self):
        self.c.close()

    def tenant_id(self, name):
        return next(t["id"] for t in self._call(self.c.tenants) if t["name"] == name)

    def agents(self, tenant):
        return self._call(self.c.agents, tenant)

    def agent(self, tenant, agent):
        return self._call(self.c.agent, tenant, agent)

    def put_config(self, tenant, agent, text, expected_version=None):
        return self._call(self.c.update_config, tenant, agent, text, expected_version)

    def switch(self, tenant, agent, **body):
        return self._call(self.c.enqueue_switch, tenant, agent, **body)

    def commands(self, tenant, agent):
        return self._call(self.c.commands, tenant, agent)

    def request_replica(self, tenant, agent):
        return self._call(self.c.request_replica, tenant, agent)

    def promote(self, tenant, agent, replica):
        return self._call(self.c.promote_replica, tenant, agent, replica)

    def events(self, tenant, agent):
        return self._call(self.c.events, tenant, agent)

    def incidents(self, tenant, agent):
        return self._call(self.c.incidents, tenant, agent)

    def suspend(self, tenant):
        self._call(self.c.suspend_tenant, tenant)
        return self._call(self.c.tenant, tenant)

    def reactivate(self, tenant):
        self._call(self.c.reactivate_tenant, tenant)
        return self._call(self.c.tenant, tenant)
