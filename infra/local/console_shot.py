"""A screenshot of the staff console's main page (the work queues) for `make demo`.

Runs against the demo's in-process runtime: a staff user pool on moto's Cognito, the API and
console server on 127.0.0.1, and Debian's chromium through Playwright. Without chromium or
Playwright it returns None and the demo goes on (`make test` installs both).
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import boto3

from infra.local import identity
from infra.local.api_server import ApiServer
from infra.local.console import Console

LOG = logging.getLogger("medbill.local.console_shot")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def moto_jwks() -> dict[str, Any]:
    """The public keys moto's Cognito signs with (what its /.well-known/jwks.json serves)."""
    import moto.cognitoidp

    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"
    return dict(json.loads(gzip.decompress(path.read_bytes())))


def screenshot(bridge: Any, output: Path, user: str = "ada.admin") -> Path | None:
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    cognito = boto3.client("cognito-idp")
    pool = identity.provision(cognito)
    identity.add_demo_users(cognito, pool)
    token = identity.sign_in(cognito, pool, user, identity.DEMO_PASSWORD)
    verifier = identity.TokenVerifier(moto_jwks(), pool)
    console = Console(cognito_url="", client_id=pool.client_id, region=pool.region, user_pool_id=pool.pool_id)
    target = output / "console.png"
    with ApiServer(bridge, verifier=verifier.claims, console=console) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # Signed in already: the token the sign-in form would have stored.
            page.add_init_script(f"sessionStorage.setItem('medbill.idToken', {json.dumps(token)})")
            page.goto(f"{server.url}/console/")
            page.wait_for_selector("body[data-ready='#/']", timeout=60_000)
            page.screenshot(path=str(target), full_page=True)
        finally:
            browser.close()
    return target
