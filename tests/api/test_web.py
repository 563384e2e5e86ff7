"""The web app's build is served at / with its routes reloadable; the API keeps its 404s."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app_support import Login
from contango.api.app import create_app
from contango.settings import Settings


@pytest.fixture
def web_client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "app-1a2b.js").write_text("console.log('contango')")
    chosen = settings.model_copy(update={"web_dir": dist})
    with TestClient(create_app(chosen)) as client:
        yield client


def test_the_app_and_its_routes_answer_with_the_page(web_client: TestClient) -> None:
    html = {"Accept": "text/html,application/xhtml+xml"}
    for path in ("/", "/backtests/7d1f", "/data/datasets/ES.1d"):
        page = web_client.get(path, headers=html)
        assert page.status_code == 200
        assert "id=root" in page.text
        assert page.headers["cache-control"] == "no-cache"
    asset = web_client.get("/assets/app-1a2b.js")
    assert asset.text == "console.log('contango')"


def test_api_paths_and_missing_files_stay_problem_404s(web_client: TestClient) -> None:
    html = {"Accept": "text/html"}
    for method, path, headers in (
        ("GET", "/api/v1/nope", html),
        ("POST", "/somewhere", html),
        ("GET", "/x.png", {"Accept": "image/png"}),
        ("GET", "/missing.js", {}),
    ):
        response = web_client.request(method, path, headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert web_client.get("/assets/..%2F..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert "root:" not in web_client.get("/assets/../../../etc/passwd").text


def test_without_a_build_the_root_says_how_to_make_one(settings: Settings, tmp_path: Path) -> None:
    chosen = settings.model_copy(update={"web_dir": tmp_path / "absent"})
    with TestClient(create_app(chosen)) as client:
        assert "make web" in client.get("/").text


def test_cookie_websocket_handshakes_must_come_from_our_own_pages(
    client: TestClient, login: Login
) -> None:
    token = login("analyst")["Authorization"].removeprefix("Bearer ")
    client.cookies.set("contango_access", token)
    url = f"/api/v1/ws/jobs/{uuid.uuid4()}"
    codes = {}
    for origin in ("https://evil.example", "http://testserver", None):
        headers = {"origin": origin} if origin else {}
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect(url, headers=headers) as socket,
        ):
            socket.receive_json()
        codes[origin] = closed.value.code
    # cross-site and origin-less cookie handshakes are refused; our own page reaches the
    # object rule (no such job: 4404)
    assert codes == {"https://evil.example": 4403, "http://testserver": 4404, None: 4403}
