"""The dashboard's sign-in, sessions, CSRF and roles, through the app in-process on both databases:
what a browser's cookie and forms can and cannot do, and `tessera user create` on a real SQLite file."""

from __future__ import annotations

import os
import pty
import re
import select
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from tessera.bootstrap import Container
from tessera.cli import main
from tessera.core.dashboard.service import DashboardServices, Policy
from tessera.core.merchants import create_merchant
from tessera.core.payments.model import PaymentStatus
from tests.conftest import Backend, Merchant, auth, make_settings
from tests.factories import payment

PASSWORD = "correct horse battery"


def _dash(container: Container) -> DashboardServices:
    assert container.services.dashboard is not None
    return container.services.dashboard


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/dashboard/login")
    return await client.post(
        "/dashboard/login", data={"email": email, "password": password, "csrf_token": _csrf(form.text)}
    )


async def _authorized_payment(client: httpx.AsyncClient, merchant: Merchant) -> str:
    r = await client.post("/v1/payments", json=payment(capture_method="manual"), headers=auth(merchant.test.secret_key))
    assert r.json()["status"] == "authorized", r.text
    return str(r.json()["id"])


async def test_a_user_signs_in_with_an_httponly_samesite_cookie_and_sees_the_dashboard(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _dash(container).create_user(merchant.id, "Ops@Shop.test", "admin", PASSWORD)
    signed = await sign_in(client, "ops@shop.test")
    assert signed.status_code == 303 and signed.headers["location"] == "/dashboard/"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith("tessera_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # development: served over plain HTTP on 127.0.0.1
    home = await client.get("/dashboard/")
    assert home.status_code == 200 and "ops@shop.test" in home.text


async def test_a_wrong_password_and_an_unknown_email_are_refused_alike(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _dash(container).create_user(merchant.id, "ops@shop.test", "admin", PASSWORD)
    wrong = await sign_in(client, "ops@shop.test", "not the password")
    unknown = await sign_in(client, "nobody@shop.test")
    assert wrong.status_code == unknown.status_code == 401
    assert "tessera_session" not in client.cookies
    assert (await client.get("/dashboard/")).status_code == 303


async def test_sign_in_is_throttled_per_account_even_with_the_right_password(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _dash(container).create_user(merchant.id, "ops@shop.test", "admin", PASSWORD)
    for _ in range(_dash(container).policy.failures_per_account):
        assert (await sign_in(client, "ops@shop.test", "guess guess guess")).status_code == 401
    refused = await sign_in(client, "ops@shop.test")
    assert refused.status_code == 401 and "too many failed sign-ins" in refused.text.lower()


async def test_sign_in_is_throttled_per_address_across_accounts(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    dashboard = _dash(container)
    dashboard.policy = Policy(failures_per_address=3, failures_per_account=100)
    await dashboard.create_user(merchant.id, "ops@shop.test", "admin", PASSWORD)
    for n in range(3):
        assert (await sign_in(client, f"guess{n}@shop.test")).status_code == 401
    assert "too many failed sign-ins" in (await sign_in(client, "ops@shop.test")).text.lower()


async def test_a_session_ends_when_it_expires_and_when_the_user_signs_out(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    dashboard = _dash(container)
    await dashboard.create_user(merchant.id, "ops@shop.test", "admin", PASSWORD)
    await sign_in(client, "ops@shop.test")
    home = await client.get("/dashboard/")
    out = await client.post("/dashboard/logout", data={"csrf_token": _csrf(home.text)})
    assert out.status_code == 303
    assert (await client.get("/dashboard/")).headers["location"] == "/dashboard/login"

    dashboard.policy = Policy(session_idle=timedelta(0))
    await sign_in(client, "ops@shop.test")
    assert (await client.get("/dashboard/")).headers["location"] == "/dashboard/login"


async def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _dash(container).create_user(merchant.id, "dev@shop.test", "developer", PASSWORD)
    pay_id = await _authorized_payment(client, merchant)
    await sign_in(client, "dev@shop.test")
    for data in ({"form_key": "k" * 20}, {"form_key": "k" * 20, "csrf_token": "forged"}):
        r = await client.post(f"/dashboard/payments/{pay_id}/capture", data=data)
        assert r.status_code == 403
    paid = await container.services.payments.get(merchant.id, "test", pay_id)
    assert paid.status is PaymentStatus.AUTHORIZED


async def test_a_viewer_is_refused_by_the_server_and_a_developer_captures_once_per_form(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    dashboard = _dash(container)
    await dashboard.create_user(merchant.id, "viewer@shop.test", "viewer", PASSWORD)
    await dashboard.create_user(merchant.id, "dev@shop.test", "developer", PASSWORD)
    pay_id = await _authorized_payment(client, merchant)
    await sign_in(client, "viewer@shop.test")
    token = _csrf((await client.get(f"/dashboard/payments/{pay_id}")).text)
    refused = await client.post(
        f"/dashboard/payments/{pay_id}/capture", data={"csrf_token": token, "form_key": "k" * 20}
    )
    assert refused.status_code == 403
    assert (await container.services.payments.get(merchant.id, "test", pay_id)).amount_captured == 0

    client.cookies.clear()
    await sign_in(client, "dev@shop.test")
    form = (await client.get(f"/dashboard/payments/{pay_id}/capture")).text
    data = {"csrf_token": _csrf(form), "form_key": re.search(r'name="form_key" value="([^"]+)"', form).group(1)}  # type: ignore[union-attr]
    first = await client.post(f"/dashboard/payments/{pay_id}/capture", data={**data, "amount": "4.00"})
    again = await client.post(f"/dashboard/payments/{pay_id}/capture", data={**data, "amount": "4.00"})
    assert first.status_code == again.status_code == 303 and "already" in again.headers["location"]
    captured = await container.services.payments.get(merchant.id, "test", pay_id)
    assert captured.amount_captured == 400 and [op.type.value for op in captured.operations].count("CP") == 1
    entries, _ = await dashboard.audit_log(merchant.id)
    captures = [e for e in entries if e.action == "payment.capture"]
    assert len(captures) == 1 and captures[0].user_email == "dev@shop.test" and captures[0].ip


async def test_another_merchants_payment_is_not_found(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    _other, [other] = await create_merchant("Other Shop", uow=container.uow, allowed_domains=["yoursite.com"])
    r = await client.post("/v1/payments", json=payment(capture_method="manual"), headers=auth(other.secret_key))
    foreign = r.json()["id"]
    await _dash(container).create_user(merchant.id, "admin@shop.test", "admin", PASSWORD)
    await sign_in(client, "admin@shop.test")
    assert (await client.get(f"/dashboard/payments/{foreign}")).status_code == 404
    missing = await client.get("/dashboard/no-such-page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert (await client.get("/dashboard/static/htmx.min.js")).status_code == 200
    token = _csrf((await client.get("/dashboard/")).text)
    done = await client.post(f"/dashboard/payments/{foreign}/void", data={"csrf_token": token, "form_key": "k" * 20})
    assert done.status_code == 404


async def test_the_session_cookie_is_secure_outside_development(backend: Backend, tmp_path: Path) -> None:
    from tessera.app import create_app
    from tessera.bootstrap import build

    container = build(make_settings(backend, tmp_path, environment="production"))
    await container.start()
    try:
        made, _ = await create_merchant("Prod Shop", uow=container.uow)
        await _dash(container).create_user(made.id, "ops@prod.test", "admin", PASSWORD)
        app = create_app(container.settings, container=container, embedded_worker=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://tessera.test") as c:
            signed = await sign_in(c, "ops@prod.test")
        cookie = next(v for v in signed.headers.get_list("set-cookie") if v.startswith("tessera_session="))
        assert "Secure" in cookie and "HttpOnly" in cookie
    finally:
        await container.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_user_create_reads_the_password_from_stdin_or_prints_a_one_time_one(backend: Backend, tmp_path: Path) -> None:
    env = {"TESSERA_DATABASE_URL": backend.url, "TESSERA_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    made = runner.invoke(main, ["merchant", "create", "--name", "CLI Shop", "--json"], env=env)
    merchant_id = made.output.splitlines()[0].split('"merchant_id": "')[1].split('"')[0]
    base = ["user", "create", "--merchant", merchant_id, "--role"]
    piped = runner.invoke(
        main, [*base, "viewer", "--email", "a@cli.test", "--password-stdin"], input=PASSWORD + "\n", env=env
    )
    assert piped.exit_code == 0, piped.output
    assert PASSWORD not in piped.output and "viewer" in piped.output
    printed = runner.invoke(main, [*base, "admin", "--email", "b@cli.test"], input="", env=env)
    assert printed.exit_code == 0, printed.output
    assert re.search(r"one-time password \(shown once\): \S{20,}", printed.output)
    short = runner.invoke(main, [*base, "admin", "--email", "c@cli.test", "--password-stdin"], input="short\n", env=env)
    assert short.exit_code != 0 and "password must be" in short.output
    again = runner.invoke(main, [*base, "admin", "--email", "A@cli.test", "--password-stdin"], input=PASSWORD, env=env)
    assert again.exit_code != 0 and "exists" in again.output


async def test_the_settings_form_requires_3_d_secure_and_a_card_without_it_then_fails(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    await _dash(container).create_user(merchant.id, "dev@shop.test", "developer", PASSWORD)
    await sign_in(client, "dev@shop.test")
    form = (await client.get("/dashboard/developers/settings")).text
    saved = await client.post(
        "/dashboard/developers/settings",
        data={
            "csrf_token": _csrf(form),
            "allowed_domains": "yoursite.com\nlocalhost",
            "callback_url": "",
            "attempt_budget": "3",
            "threeds_policy": "required",
            "allowed_ips": "",
            "charges": "* INR 250 0\nvisa * 100 5",
        },
    )
    assert saved.status_code == 303, saved.text
    after = await container.services.merchants.settings(merchant.id)
    assert after.threeds_policy == "required"
    assert [c.as_dict() for c in after.charges] == [
        {"brand": "*", "currency": "INR", "percent_bp": 250, "fixed": 0},
        {"brand": "visa", "currency": "*", "percent_bp": 100, "fixed": 5},
    ]
    r = await client.post("/v1/payments", json=payment("4000000000003105"), headers=auth(merchant.test.secret_key))
    assert r.json()["status"] == "failed" and r.json()["error"]["code"] == "3DS_FAILED"
    bad = await client.post(
        "/dashboard/developers/settings",
        data={"csrf_token": _csrf(form), "attempt_budget": "3", "threeds_policy": "sometimes"},
    )
    assert bad.status_code == 400 and "threeds_policy must be auto or required" in bad.text
    form = (await client.get("/dashboard/developers/settings")).text
    assert "* INR 250 0" in form
    wrong = await client.post(
        "/dashboard/developers/settings",
        data={"csrf_token": _csrf(form), "attempt_budget": "3", "threeds_policy": "auto", "charges": "visa 2.5%"},
    )
    assert wrong.status_code == 400 and "each charge line is" in wrong.text


async def test_the_worker_purges_ended_sessions_and_old_failures_and_keeps_live_ones(
    client: httpx.AsyncClient, container: Container, merchant: Merchant
) -> None:
    from tessera import worker

    dashboard = _dash(container)
    await dashboard.create_user(merchant.id, "ops@shop.test", "admin", PASSWORD)
    await sign_in(client, "ops@shop.test", "wrong password!")
    await sign_in(client, "ops@shop.test")
    assert (await worker.run_once(container))["purged"] == 0  # nothing has ended: no row goes
    assert (await client.get("/dashboard/")).status_code == 200
    dashboard.policy = Policy(session_idle=timedelta(0), failure_window=timedelta(0))
    await sign_in(client, "ops@shop.test")  # a session that has ended as it begins
    assert (await worker.run_once(container))["purged"] == 2  # it, and the old failure


def _read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {wanted!r} in {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # the child closed its terminal
                chunk = b""
            assert chunk, f"the command ended before {wanted!r}: {bytes(seen)!r}"
            seen += chunk


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_user_create_on_a_terminal_asks_for_the_password_twice_and_never_shows_it(
    backend: Backend, tmp_path: Path
) -> None:
    env = {**os.environ, "TESSERA_DATABASE_URL": backend.url, "TESSERA_DATA_DIR": str(tmp_path / "data")}
    made = CliRunner().invoke(main, ["merchant", "create", "--name", "TTY Shop", "--json"], env=env)
    merchant_id = made.output.splitlines()[0].split('"merchant_id": "')[1].split('"')[0]
    command = [sys.executable, "-m", "tessera", "user", "create", "--merchant", merchant_id]
    command += ["--email", "tty@cli.test", "--role", "developer"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command on the terminal's other end
        os.execvpe(command[0], command, env)
    seen = bytearray()
    try:
        _read_until(fd, b"Password:", seen)
        os.write(fd, PASSWORD.encode() + b"\n")
        _read_until(fd, b"confirmation:", seen)
        os.write(fd, PASSWORD.encode() + b"\n")
        _read_until(fd, b"developer", seen)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, bytes(seen)
    assert PASSWORD.encode() not in seen  # typed without echo, and not printed back
    assert b"one-time password" not in seen  # the password was the one typed
    again = CliRunner().invoke(
        main,
        [
            "user",
            "create",
            "--merchant",
            merchant_id,
            "--email",
            "tty@cli.test",
            "--role",
            "viewer",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=env,
    )
    assert again.exit_code != 0 and "exists" in again.output
