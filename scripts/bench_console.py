#!/usr/bin/env python3
"""The web console's page weight and render time with 10,000 certificates
in the account (issue "A web console", item 4: every page under 200 KB
transferred and rendered within 300 ms on loopback). A benchmark, never a
timed test: run it with nothing else busy on the machine.

Fills a fresh server (embedded SQLite, release build) with 10,000 issued
private certificates (1,000 of them revoked) under two CAs, a few SSL
certificates, users and policies; signs in to the console in Debian's
Chromium (headless, through Selenium); then loads each page afresh, the
browser's cache off, five times, and prints for each the bytes transferred
(the page, its scripts and style, every API answer it asked for: Resource
Timing's transferSize) and the time from the start of the navigation to the
end of the console's render (app.js marks it on <body>), the median of the
five, next to the targets.

Run with scripts/bench console (builds the release binary, makes a Python
environment with Selenium). Environment: BENCH_CERTIFICATES (default 10000).
"""

import concurrent.futures
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import WORK, OpenCcm, csr_pem, machine_facts, report, request, root_ca, summary  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CERTIFICATES = int(os.environ.get("BENCH_CERTIFICATES", "10000"))
RUNS = 5
MAX_KB = 200
MAX_MS = 300


def fill(ccm, token):
    """CERTIFICATES certificates by the API (CSR issuance, c=32), a tenth revoked."""
    root = root_ca(ccm.base, token, "EC256", "SHA256", "Console Bench Root")
    _, body = request("POST", f"{ccm.base}/v1/private-certificate-authorities", {
        "type": "SUBORDINATE", "issuer_id": root, "key_algorithm": "EC256", "signature_algorithm": "SHA256",
        "path_length": 0, "validity": {"type": "YEAR", "value": 5},
        "distinguished_name": {"common_name": "Console Bench Issuing", "country": "CN", "state": "Guangdong",
                               "locality": "Shenzhen", "organization": "Bench", "organizational_unit": "IT"}}, token)
    sub = json.loads(body)["ca_id"]
    csr = csr_pem("EC256")

    def issue(n):
        _, body = request("POST", f"{ccm.base}/v1/private-certificates/csr", {
            "issuer_id": sub if n % 2 else root, "csr": csr,
            "validity": {"type": "DAY", "value": 1 + n % 365}}, token)
        cert = json.loads(body)["certificate_id"]
        if n % 10 == 0:
            request("POST", f"{ccm.base}/v1/private-certificates/{cert}/revoke", {"reason": "SUPERSEDED"}, token,
                    expect=(204,))
        return cert

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        ids = list(pool.map(issue, range(CERTIFICATES)))
    return root, ids[1]


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1280,800", f"--user-data-dir={os.path.join(WORK, 'chromium')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    return driver


def load(driver, url):
    """One fresh load of `url`: (KB transferred, ms to the end of the render)."""
    driver.get("about:blank")
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.body.dataset.renderedAt || ''"))
    ms = float(driver.execute_script("return document.body.dataset.renderedAt"))
    size = driver.execute_script(
        "return performance.getEntries().filter(e => 'transferSize' in e)"
        ".reduce((n, e) => n + e.transferSize, 0)")
    errors = driver.find_elements(By.CSS_SELECTOR, "main .notice.error")
    if errors:
        raise RuntimeError(f"{url}: {errors[0].text}")
    return size / 1024, ms


def main():
    machine_facts()
    ccm = OpenCcm()
    token = ccm.token()
    creds = ccm.credentials()
    print(f"\n== filling the account: {CERTIFICATES} certificates (a tenth revoked)", flush=True)
    root, cert = fill(ccm, token)
    for n in range(3):
        request("POST", f"{ccm.base}/v3/users", {"user": {"name": f"bench-user-{n}", "password": "Bench-12345"}}, token,
                expect=(201,))
    driver = browser()
    try:
        driver.get(f"{ccm.base}/console/")
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "signin-submit"))
        driver.find_element(By.ID, "signin-domain").send_keys(creds["domain_name"])
        driver.find_element(By.ID, "signin-user").send_keys(creds["user_name"])
        driver.find_element(By.ID, "signin-password").send_keys(creds["password"])
        driver.find_element(By.ID, "signin-submit").click()
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.body.dataset.rendered || ''"))
        pages = ["/overview", "/cas", f"/cas/{root}", "/cas/new", "/certs", "/certs?status=REVOKED&sort_key=not_after",
                 "/certs?offset=9980", f"/certs/{cert}", "/certs/new", "/ssl", "/csrs", "/iam/users", "/iam/groups",
                 "/iam/policies"]
        print(f"\n== console pages, each loaded {RUNS} times afresh (cache off): KB transferred, ms to rendered")
        worst_kb, worst_ms = 0, 0
        for page in pages:
            runs = [load(driver, f"{ccm.base}/console/#{page}") for _ in range(RUNS)]
            kb = max(r[0] for r in runs)
            ms = statistics.median(r[1] for r in runs)
            worst_kb, worst_ms = max(worst_kb, kb), max(worst_ms, ms)
            print(f"  {page:<42} {kb:7.1f} KB  {ms:7.1f} ms (median; runs {', '.join(f'{r[1]:.0f}' for r in runs)})")
        report("console page weight, heaviest page", f"{worst_kb:.1f} KB", f"<= {MAX_KB} KB", worst_kb <= MAX_KB)
        report("console render time, slowest page (median)", f"{worst_ms:.0f} ms", f"<= {MAX_MS} ms",
               worst_ms <= MAX_MS)
    finally:
        driver.quit()
        ccm.stop()
    summary()


if __name__ == "__main__":
    main()
