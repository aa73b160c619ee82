"""cors_lab.versions: one scenario on several Starlette releases, each in its own cached environment.

Tests marked ``index`` build environments from the package index (once; they
are cached) and are skipped, with the reason, when it cannot be reached. Every
other test runs offline: the lab's own environment (Starlette 1.10.0) needs
no new environment, and the failure paths use a cache directory of their own.
"""

from __future__ import annotations

import json

import pytest

import cors_lab
from cors_lab import versions

PAGE = "http://localhost:3000"

# The app of Kludex/starlette#2675: allow every origin, with credentials.
WILDCARD_WITH_CREDENTIALS = """
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route


async def me(request):
    return JSONResponse({"user": "ada"})


app = Starlette(routes=[Route("/me", me)])
app = CORSMiddleware(app, allow_origins=["*"], allow_credentials=True)
"""

LOGIN_WITHOUT_COOKIE = versions.Scenario(
    WILDCARD_WITH_CREDENTIALS,
    [versions.Fetch("/me", credentials="include")],
    title="allow_origins=['*'], allow_credentials=True, no Cookie yet",
)


def the_current_starlette() -> str:
    import starlette

    return starlette.__version__


# -- Offline ----------------------------------------------------------------------------------


def test_the_labs_own_release_runs_without_a_new_environment(tmp_path):
    matrix = versions.compare(LOGIN_WITHOUT_COOKIE, starlette=[the_current_starlette()], cache_dir=tmp_path)
    (run,) = matrix.runs
    assert run.source == "live" and run.installed["starlette"] == the_current_starlette()
    assert not any(tmp_path.iterdir())  # nothing was built
    outcome = matrix.outcome(the_current_starlette())
    assert outcome.status == "GET 200"
    assert ("access-control-allow-origin", PAGE) in outcome.cors_headers
    assert outcome.verdict == "allowed (script reads 200)"


def test_the_remote_app_gives_the_same_exchange_as_the_app_in_process():
    namespace: dict = {}
    exec(WILDCARD_WITH_CREDENTIALS, namespace)
    local = cors_lab.Browser(origin=PAGE).fetch(namespace["app"], "/me", credentials="include")
    matrix = versions.compare(LOGIN_WITHOUT_COOKIE, starlette=the_current_starlette())
    remote = matrix.runs[0].outcomes[0].exchanges
    assert [str(e) for e in remote] == [str(e) for e in local.exchanges]


def test_an_exception_in_the_remote_app_becomes_the_servers_500():
    scenario = versions.Scenario(
        """
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

async def boom(request):
    raise RuntimeError("boom")

app = CORSMiddleware(Starlette(routes=[Route("/boom", boom)]), allow_origins=["http://localhost:3000"])
""",
        [versions.Fetch("/boom")],
    )
    outcome = versions.compare(scenario, starlette=the_current_starlette()).runs[0].outcomes[0]
    # Wrapped in CORSMiddleware, the 500 keeps its CORS headers: the page reads it.
    assert outcome.status == 'GET 500 "Internal Server Error"'
    assert outcome.verdict == "allowed (script reads 500)"
    assert "RuntimeError: boom" in outcome.exchanges[0].error.summary


def test_a_function_is_a_scenario_too():
    def build():
        from starlette.applications import Starlette
        from starlette.middleware.cors import CORSMiddleware

        return CORSMiddleware(Starlette(), allow_origins=["http://localhost:3000"])

    matrix = versions.compare(build, [versions.Send("GET", "/", headers={"Origin": PAGE})], starlette=the_current_starlette())
    outcome = matrix.runs[0].outcomes[0]
    assert outcome.status == 'GET 404 "Not Found"'
    assert ("access-control-allow-origin", PAGE) in outcome.cors_headers
    assert outcome.verdict == ""


def test_a_scenario_that_fails_to_build_is_reported_per_release():
    scenario = versions.Scenario("import fastapi_does_not_exist\napp = None\n", [versions.Fetch("/")])
    matrix = versions.compare(scenario, starlette=the_current_starlette())
    assert matrix.runs[0].source == "unavailable"
    assert "No module named 'fastapi_does_not_exist'" in matrix.runs[0].error


def test_a_missing_environment_is_named_and_the_others_still_run(tmp_path):
    matrix = versions.compare(LOGIN_WITHOUT_COOKIE, starlette=["0.14.2", the_current_starlette()], build=False, cache_dir=tmp_path)
    old, new = matrix.runs
    assert (old.source, new.source) == ("unavailable", "live")
    assert "environment not built" in old.error
    text = str(matrix)
    assert "starlette 0.14.2 unavailable: environment not built" in text
    assert "allowed (script reads 200)" in text
    assert "unavailable: starlette 0.14.2" in matrix.note


def test_stored_results_stand_in_for_a_missing_environment(tmp_path):
    current = the_current_starlette()
    stored = tmp_path / "results.json"
    recorded = versions.compare(LOGIN_WITHOUT_COOKIE, starlette=[current], stored=stored, record=True)
    assert json.loads(stored.read_text())["fingerprint"] == LOGIN_WITHOUT_COOKIE.fingerprint()
    # Pretend the recording came from an old release we do not have.
    data = json.loads(stored.read_text())
    data["runs"] = {"starlette 0.14.2": data["runs"][f"starlette {current}"]}
    stored.write_text(json.dumps(data))
    matrix = versions.compare(LOGIN_WITHOUT_COOKIE, starlette=["0.14.2", current], build=False, stored=stored,
                              cache_dir=tmp_path / "envs")
    assert [r.source for r in matrix.runs] == ["stored", "live"]
    assert matrix.runs[0].outcomes == recorded.runs[0].outcomes
    assert [str(e) for e in matrix.runs[0].outcomes[0].exchanges] == [str(e) for e in recorded.runs[0].outcomes[0].exchanges]
    assert "stored results (environment not built): starlette 0.14.2" in matrix.note
    # Results stored for another scenario are never shown as this one's.
    other = versions.Scenario(WILDCARD_WITH_CREDENTIALS, [versions.Fetch("/me")])
    assert versions.compare(other, starlette=["0.14.2"], build=False, stored=stored, cache_dir=tmp_path).runs[0].source == "unavailable"


def test_an_unreachable_index_is_reported_as_such(tmp_path, monkeypatch):
    # Port 9 (discard) on loopback: nothing answers, so pip cannot reach the index.
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
    matrix = versions.compare(LOGIN_WITHOUT_COOKIE, starlette=["0.14.2", the_current_starlette()], cache_dir=tmp_path)
    old, new = matrix.runs
    assert old.source == "unavailable" and "could not be reached" in old.error
    assert new.source == "live"
    assert not (tmp_path / versions.environment("starlette==0.14.2", cache_dir=tmp_path).name).exists()


@pytest.mark.parametrize(
    ("output", "kind"),
    [
        ("ERROR: Could not find a version that satisfies the requirement starlette==9.9.9 (from versions: 0.1.0, 1.10.0)\n"
         "ERROR: No matching distribution found for starlette==9.9.9", "no-such-version"),
        ("WARNING: Retrying ... NewConnectionError('Failed to establish a new connection')\n", "network"),
        ("ERROR: Package 'starlette' requires a different Python: 3.11.7 not in '>=3.12'", "python"),
        ("ERROR: something else entirely", "other"),
    ],
)
def test_pip_failures_are_told_apart(output, kind):
    assert versions._classify_pip_failure(output, ["starlette==9.9.9"])[0] == kind


def test_cache_location_follows_the_keyword_then_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(versions.CACHE_ENV_VAR, str(tmp_path / "from-env"))
    assert versions.cache_dir() == tmp_path / "from-env"
    assert versions.cache_dir(tmp_path / "kw") == tmp_path / "kw"
    env = versions.environment("starlette==0.14.2")
    assert env.path.parent == tmp_path / "from-env"
    assert env.path.name.endswith("-starlette-0.14.2") and env.label == "starlette 0.14.2"
    monkeypatch.delenv(versions.CACHE_ENV_VAR)
    assert versions.cache_dir().parts[-2:] == ("cors-lab", "envs")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give the releases"),
        ({"starlette": ["0.14"], "fastapi": ["0.65.2", "0.66.0"]}, "pair up"),
        ({"starlette": ["latest"]}, "release numbers"),
    ],
)
def test_release_lists_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        versions.compare(LOGIN_WITHOUT_COOKIE, **kwargs)


def test_fastapi_and_starlette_pair_up():
    assert versions._pins(["0.14.2", "0.52.1"], "0.65.2") == [
        ("fastapi==0.65.2", "starlette==0.14.2"),
        ("fastapi==0.65.2", "starlette==0.52.1"),
    ]


# -- With the package index -------------------------------------------------------------------


@pytest.fixture(scope="module")
def index_releases():
    """Build (or reuse) the environments of two real releases; skip if the index cannot be reached."""
    for pin in ("starlette==0.52.1",):
        try:
            versions.environment(pin).ensure()
        except versions.EnvironmentUnavailable as exc:
            if exc.kind == "network":
                pytest.skip(f"package index unreachable, cannot build {pin}: {exc.reason}")
            raise


@pytest.mark.usefixtures("index_releases")
def test_before_1_0_a_credentialed_request_without_cookie_gets_the_wildcard():
    """Kludex/starlette#2675 and PR #3137: `*` + credentials reflects the Origin only from 1.0 on (no Cookie sent)."""
    matrix = versions.compare(LOGIN_WITHOUT_COOKIE, starlette=["0.52.1", "1.10.0"])
    before, after = matrix.outcome("0.52.1"), matrix.outcome("1.10.0")
    assert dict(before.cors_headers)["access-control-allow-origin"] == "*"
    assert before.verdict == "blocked (WildcardOriginNotAllowed)"
    assert "must not be the wildcard '*' when the request's credentials mode is 'include'" in before.console
    assert dict(after.cors_headers)["access-control-allow-origin"] == PAGE
    assert after.verdict == "allowed (script reads 200)"
    assert matrix.changes(0) == [("starlette 0.52.1", []), ("starlette 1.10.0", ["headers", "verdict"])]
    assert matrix.runs[0].installed["starlette"] == "0.52.1"
    assert "starlette 1.10.0" in matrix._repr_html_() and "background: #fff3c4;" in matrix._repr_html_()


@pytest.mark.usefixtures("index_releases")
def test_with_a_cookie_both_releases_reflect_the_origin():
    """The pre-1.0 heuristic: a Cookie header switched `*` to the explicit origin."""
    scenario = versions.Scenario(WILDCARD_WITH_CREDENTIALS, [versions.Fetch("/me", credentials="include", cookies={"session": "1"})])
    matrix = versions.compare(scenario, starlette=["0.52.1", "1.10.0"])
    for release in ("0.52.1", "1.10.0"):
        outcome = matrix.outcome(release)
        assert dict(outcome.cors_headers)["access-control-allow-origin"] == PAGE
        assert outcome.exchanges[0].request.header("cookie") == "session=1"
        assert outcome.verdict == "allowed (script reads 200)"


@pytest.mark.usefixtures("index_releases")
def test_an_environment_is_built_once_and_reused():
    env = versions.environment("starlette==0.52.1")
    assert env.ready and not env.current
    marker = env.path / "cors-lab-env.json"
    before = marker.stat().st_mtime_ns
    env.ensure()
    assert marker.stat().st_mtime_ns == before
