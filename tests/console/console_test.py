"""The web console in a real browser: Debian's Chromium, headless, driven
by Selenium through chromedriver (crates/openccm-server/tests/it/console.rs
starts the server and runs this).

Signs in as the bootstrap administrator, creates a root and a subordinate
CA, issues a certificate from the form and one from an uploaded CSR,
downloads the first as PKCS#12 (IIS) and opens it with `openssl pkcs12`,
revokes it and sees its status change; then a user whose policy only reads
certificates sees no issue button, is refused when posting an issuance
anyway, and sees why a page it may not read is refused. A screenshot of
every page goes to OPENCCM_SCREENSHOTS.

Environment: OPENCCM_CONSOLE (the server's base URL), OPENCCM_DOMAIN_NAME,
OPENCCM_USER, OPENCCM_PASSWORD, OPENCCM_SCREENSHOTS, OPENCCM_WORK (scratch);
over TLS also OPENCCM_TLS_CERT (the server's certificate), OPENCCM_TLS_CA
(its issuer) and OPENCCM_COOKIE (the session cookie's name).
"""

import base64
import hashlib
import os
import subprocess
import sys
import time
import zipfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["OPENCCM_CONSOLE"].rstrip("/")
DOMAIN = os.environ["OPENCCM_DOMAIN_NAME"]
ADMIN = os.environ["OPENCCM_USER"]
PASSWORD = os.environ["OPENCCM_PASSWORD"]
SHOTS = os.environ["OPENCCM_SCREENSHOTS"]
WORK = os.environ["OPENCCM_WORK"]
# Over TLS the session cookie is `__Host-` prefixed and Secure.
COOKIE = os.environ.get("OPENCCM_COOKIE", "openccm_session")
# The server's own certificate, trusted by its key alone (no CA to install).
TLS_CERT = os.environ.get("OPENCCM_TLS_CERT")
DOWNLOADS = os.path.join(WORK, "downloads")
os.makedirs(SHOTS, exist_ok=True)
os.makedirs(DOWNLOADS, exist_ok=True)


def spki_hash(cert):
    """The base64 SHA-256 of a certificate's public key, as Chromium's
    --ignore-certificate-errors-spki-list takes it."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, check=True,
                         capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def browser():
    options = webdriver.ChromeOptions()
    if TLS_CERT:
        options.add_argument(f"--ignore-certificate-errors-spki-list={spki_hash(TLS_CERT)}")
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,800",
                 f"--user-data-dir={os.path.join(WORK, 'profile')}"]:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": DOWNLOADS,
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": DOWNLOADS})
    return driver


driver = browser()
# A condition that reads an element the page re-renders meanwhile (a list
# refreshed after a change) finds it stale: that is a "not yet", tried again
# like a missing element, not a failure.
wait = WebDriverWait(driver, 15, ignored_exceptions=[StaleElementReferenceException])
shot_count = 0


def shot(name):
    """A screenshot of the whole page (the window stretched to its height
    for the moment), for the CI artifacts."""
    global shot_count
    shot_count += 1
    size = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight")
    if height > size["height"]:
        driver.set_window_size(size["width"], min(height + 100, 6000))
    driver.save_screenshot(os.path.join(SHOTS, f"{shot_count:02d}-{name}.png"))
    driver.set_window_size(size["width"], size["height"])


def find(css):
    return wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def visible(css):
    return wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def heading(text):
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), text))


def open_page(hash_path):
    # A new hash is no new document: wait for the console's next render
    # (app.js marks each on <body>), not for elements of the page before.
    before = driver.execute_script("return document.body ? document.body.dataset.rendered || '' : ''")
    driver.get(f"{BASE}/console/#{hash_path}")
    if driver.find_elements(By.CSS_SELECTOR, ".signin-page"):
        return
    wait.until(lambda d: d.execute_script("return document.body.dataset.rendered || ''") not in ("", before))


def fill(css, value):
    el = find(css)
    el.clear()
    el.send_keys(value)


def check(condition, message):
    if not condition:
        logs = driver.get_log("browser")
        raise AssertionError(f"{message}\nbrowser log: {logs}")


def no_console_errors():
    # A CSP violation or a script error shows in the browser's log. (A 401
    # is logged as a failed load: the sign-in page's own checks.)
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
              and not (e["source"] == "network" and "status of 401" in e["message"])]
    check(not severe, f"browser errors: {severe}")


def fill_ca_subject(cn):
    fill("#dn_common_name", cn)
    fill("#dn_organization", "OpenCCM Test")
    fill("#dn_organizational_unit", "Platform")
    fill("#dn_state", "Guangdong")
    fill("#dn_locality", "Shenzhen")


def wait_for_download(before, suffix):
    """The path of the file ending in `suffix` that appears in DOWNLOADS."""
    deadline = time.time() + 15
    while time.time() < deadline:
        new = [p for p in set(os.listdir(DOWNLOADS)) - before if p.endswith(suffix)]
        if new:
            return os.path.join(DOWNLOADS, new[0])
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} downloaded: {os.listdir(DOWNLOADS)}")


def sign_in(user, password):
    fill("#signin-domain", DOMAIN)
    fill("#signin-user", user)
    fill("#signin-password", password)
    find("#signin-submit").click()


try:
    # --- sign-in: a wrong password is refused, in the user's language -------
    open_page("/overview")
    find("#signin-submit")
    # English for stable words; the switch is tested below.
    switch = find("#lang-switch")
    if switch.text == "English":
        switch.click()
        wait.until(EC.staleness_of(switch))
        wait.until(lambda d: d.find_element(By.ID, "lang-switch").text == "中文")
    sign_in(ADMIN, "wrong-password")
    alert = visible("p.notice.error")
    check("wrong" in alert.text, f"no refusal shown: {alert.text}")
    shot("signin-refused")
    # By keyboard alone: the fields in order, Enter submits.
    from selenium.webdriver.common.keys import Keys
    find("#signin-domain").click()
    driver.switch_to.active_element.send_keys(Keys.CONTROL, "a")
    driver.switch_to.active_element.send_keys(DOMAIN, Keys.TAB)
    check(driver.switch_to.active_element.get_attribute("id") == "signin-user", "Tab does not reach the user field")
    driver.switch_to.active_element.send_keys(Keys.CONTROL, "a")
    driver.switch_to.active_element.send_keys(ADMIN, Keys.TAB)
    check(driver.switch_to.active_element.get_attribute("id") == "signin-password", "Tab does not reach the password")
    driver.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
    heading("Overview")
    find("#count-issued")
    shot("overview-empty")
    cookie = next(c for c in driver.get_cookies() if c["name"] == COOKIE)
    check(cookie["httpOnly"] and cookie.get("sameSite") == "Strict", f"session cookie: {cookie}")
    check(cookie["secure"] == BASE.startswith("https://"), f"session cookie: {cookie}")
    no_console_errors()

    # --- a root CA, then a subordinate under it --------------------------------
    find("nav a[href='#/cas']").click()
    heading("Private CAs")
    find("#ca-create").click()
    heading("Create a CA")
    fill_ca_subject("Console Root CA")
    shot("ca-new-root")
    find("#ca-submit").click()
    heading("Console Root CA")
    check("Active" in find("main h1 .badge").text, "the root CA is not active")
    # CRL publishing with its update period.
    fill("#crl-days", "10")
    find("#ca-ca-crl-enable").click()
    # (Read by script: the page re-renders meanwhile.)
    wait.until(lambda d: "(10 days)" in d.execute_script(
        "const dl = document.querySelector('dl.details'); return dl ? dl.textContent : ''")
        and d.find_elements(By.ID, "ca-ca-crl-disable"))
    shot("ca-root-detail")

    open_page("/cas/new")
    heading("Create a CA")
    Select(find("select[name=type]")).select_by_value("SUBORDINATE")
    Select(visible("select[name=issuer_id]")).select_by_visible_text("Console Root CA")
    fill_ca_subject("Console Issuing CA")
    fill("#validity_value", "5")
    find("#ca-submit").click()
    heading("Console Issuing CA")
    check(find("dl.details a[href^='#/cas/']").text == "Console Root CA", "the subordinate's issuer is not the root")
    shot("ca-sub-detail")

    find("nav a[href='#/cas']").click()
    nested = find("#ca-tree ul.tree li ul.tree li a")
    check(nested.text == "Console Issuing CA", f"the tree does not nest the subordinate: {nested.text}")
    shot("ca-tree")

    # --- a certificate from the form ------------------------------------------
    open_page("/certs/new")
    heading("Issue a certificate")
    Select(find("#cert-form select[name=issuer_id]")).select_by_visible_text("Console Issuing CA")
    fill("#cert-form #dn_common_name", "www.console.example")
    fill("#sans", "www.console.example\n192.0.2.10")
    shot("cert-new")
    find("#cert-submit").click()
    heading("www.console.example")
    form_cert = driver.current_url.split("#/certs/")[1]
    check("Issued" in find("#cert-badge").text, "the new certificate is not issued")
    find("#cert-decoded summary").click()
    decoded = visible("#cert-decoded pre").text
    check("IP Address:192.0.2.10" in decoded and "DNS:www.console.example" in decoded,
          f"the decoded certificate lacks its names: {decoded[:400]}")
    shot("cert-detail")

    # --- download it as PKCS#12 and open it with OpenSSL -----------------------
    Select(find("#export-form select[name=type]")).select_by_value("IIS")
    fill("#export-password", "Pfx-Secret-123")
    before = set(os.listdir(DOWNLOADS))
    find("#export-submit").click()
    visible("#cert-status p.notice.ok")
    archive = wait_for_download(before, ".zip")
    with zipfile.ZipFile(archive) as z:
        pfx_names = [n for n in z.namelist() if n.endswith(".pfx")]
        check(pfx_names, f"no .pfx in {z.namelist()}")
        pfx = os.path.join(WORK, "cert.pfx")
        with open(pfx, "wb") as f:
            f.write(z.read(pfx_names[0]))
    opened = subprocess.run(["openssl", "pkcs12", "-in", pfx, "-passin", "pass:Pfx-Secret-123", "-nodes"],
                            capture_output=True, text=True)
    check(opened.returncode == 0, f"openssl pkcs12 failed: {opened.stderr}")
    check("CN = www.console.example" in opened.stdout or "CN=www.console.example" in opened.stdout,
          "the PKCS#12 does not hold the certificate")
    check("PRIVATE KEY" in opened.stdout, "the PKCS#12 does not hold the key")
    wrong = subprocess.run(["openssl", "pkcs12", "-in", pfx, "-passin", "pass:not-it", "-nodes"],
                           capture_output=True, text=True)
    check(wrong.returncode != 0, "the PKCS#12 opens without its password")

    # --- a certificate from an uploaded CSR ------------------------------------
    key, csr = os.path.join(WORK, "csr.key"), os.path.join(WORK, "upload.csr")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-subj", "/CN=csr.console.example", "-out", csr], check=True, capture_output=True)
    open_page("/certs/new")
    heading("Issue a certificate")
    Select(find("#csr-form select[name=issuer_id]")).select_by_visible_text("Console Issuing CA")
    find("#csr-file").send_keys(csr)
    wait.until(lambda d: "BEGIN CERTIFICATE REQUEST" in d.find_element(By.ID, "csr").get_attribute("value"))
    find("#csr-submit").click()
    heading("csr.console.example")
    check("From a CSR" in driver.find_element(By.CSS_SELECTOR, "dl.details").text, "not issued from the CSR")
    shot("cert-from-csr")

    # --- revoke the first one; its status changes -------------------------------
    open_page(f"/certs/{form_cert}")
    heading("www.console.example")
    Select(find("#revoke-form select[name=reason]")).select_by_value("KEY_COMPROMISE")
    find("#revoke-submit").click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#cert-badge"), "Revoked"))
    check(not driver.find_elements(By.ID, "revoke-form"), "a revoked certificate still offers revocation")
    shot("cert-revoked")

    # --- the list: search and the status filter --------------------------------
    open_page("/certs?status=REVOKED")
    heading("Private certificates")
    rows = driver.find_elements(By.CSS_SELECTOR, "#cert-table tbody tr")
    check(len(rows) == 1 and "www.console.example" in rows[0].text, f"revoked filter: {[r.text for r in rows]}")
    fill("#cert-search", "csr.console")
    Select(find("select[name=status]")).select_by_value("")
    find("#cert-filter").click()
    wait.until(lambda d: "csr.console.example" in d.find_element(By.ID, "cert-table").text
               and "www.console.example" not in d.find_element(By.ID, "cert-table").text)
    shot("cert-list")
    # The issuer filter: nothing was issued by the root itself.
    open_page("/certs")
    Select(find("select[name=issuer_id]")).select_by_visible_text("Console Root CA")
    find("#cert-filter").click()
    wait.until(lambda d: "issuer_id=" in d.current_url)
    visible("#cert-table p.empty")

    # --- the overview counts what happened --------------------------------------
    find("nav a[href='#/overview']").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#count-revoked .value").text == "1")
    check(find("#count-issued .value").text == "1", "overview: issued count")
    # The CSR's certificate ends in a year, the CAs in 5 and 10: nothing
    # expires within 90 days.
    rows = [r.text.split() for r in driver.find_elements(By.CSS_SELECTOR, "#expiring tbody tr")]
    check(all(r[-3:] == ["0", "0", "0"] for r in rows) and len(rows) == 2, f"expiring: {rows}")
    shot("overview")

    # --- Chinese ---------------------------------------------------------------
    find("#lang-switch").click()
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "main h1"), "总览"))
    check(find("nav a[href='#/certs']").text == "私有证书", "navigation not in Chinese")
    shot("overview-zh")
    find("#lang-switch").click()
    heading("Overview")
    no_console_errors()

    # --- SSL certificates: import one, see it, export it, delete it ----------
    skey, scert = os.path.join(WORK, "ssl.key"), os.path.join(WORK, "ssl.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", skey, "-out", scert, "-days", "30", "-subj", "/CN=shop.console.example",
                    "-addext", "subjectAltName=DNS:shop.console.example"], check=True, capture_output=True)
    find("nav a[href='#/ssl']").click()
    heading("SSL certificates")
    find("#scm-import").click()
    heading("Import an SSL certificate")
    fill("#scm-name", "console-shop")
    find("#scm-certificate-file").send_keys(scert)
    find("#scm-key-file").send_keys(skey)
    wait.until(lambda d: "PRIVATE KEY" in d.find_element(By.ID, "scm-key").get_attribute("value"))
    shot("ssl-import")
    find("#scm-import-submit").click()
    heading("console-shop")
    check("shop.console.example" in find("dl.details").text, "the imported certificate's domain")
    before = set(os.listdir(DOWNLOADS))
    find("#scm-export").click()
    visible("#scm-status p.notice.ok")
    # One file with the certificate and its key.
    bundle = wait_for_download(before, ".pem")
    with open(bundle) as f:
        text = f.read()
    check("BEGIN CERTIFICATE" in text and "PRIVATE KEY" in text, f"the SSL export: {text[:200]}")
    shot("ssl-detail")
    find("#scm-delete").click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    heading("SSL certificates")
    check("console-shop" not in find("#scm-table").text, "the deleted certificate is still listed")

    # --- a CSR made by the service --------------------------------------------
    open_page("/csrs")
    heading("Certificate signing requests")
    fill("#csr-name", "console-csr")
    fill("#csr-domain", "api.console.example")
    find("#csr-create-submit").click()
    heading("console-csr")
    check("BEGIN CERTIFICATE REQUEST" in find("#csr-pem").text, "the CSR is not shown")
    shot("csr-detail")

    # --- a read-only user, made in the console by the administrator ------------
    open_page("/iam/users")
    heading("Users and access keys")
    fill("#user-name", "auditor")
    fill("#user-password", "Auditor-123")
    find("#user-submit").click()
    wait.until(lambda d: "auditor" in d.find_element(By.ID, "user-table").text)
    find("#user-table button.new-key[data-user='auditor']").click()
    sk = visible("#new-sk").text
    check(len(sk) == 40 and len(find("#new-ak").text) == 20, f"the new key is not shown once: {sk!r}")
    shot("iam-users-new-key")
    find("#key-saved").click()
    check(not driver.find_elements(By.ID, "new-sk"), "the secret key stays on the page")
    open_page("/iam/policies")
    heading("Identity policies")
    fill("#policy-name", "certificate-reader")
    editor = find("#policy-document")
    editor.clear()
    editor.send_keys('{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["pca:cert:get", "read everything"]}]}')
    find("#policy-submit").click()
    problem = visible("#policy-check .notice.error").text
    check("read everything" in problem, f"the editor did not refuse a bad action: {problem}")
    shot("iam-policy-refused")
    editor.clear()
    editor.send_keys('{"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["pca:cert:get", "pca:cert:list"]}]}')
    find("#policy-submit").click()
    wait.until(lambda d: "certificate-reader" in d.find_element(By.CSS_SELECTOR, "main table").text)
    Select(find("select[name=policy]")).select_by_visible_text("certificate-reader")
    Select(find("select[name=principal]")).select_by_visible_text("User: auditor")
    find("#policy-attach").click()
    visible("#iam-status .notice.ok")
    shot("iam-policies")

    find("#signout").click()
    find("#signin-submit")
    open_page("/certs")
    find("#signin-submit")
    sign_in("auditor", "Auditor-123")
    heading("Private certificates")
    check(not driver.find_elements(By.ID, "cert-issue"), "a read-only user sees the issue button")
    shot("readonly-cert-list")
    open_page(f"/certs/{form_cert}")
    heading("www.console.example")
    check(not driver.find_elements(By.ID, "export-form") and not driver.find_elements(By.ID, "revoke-form"),
          "a read-only user sees export or revocation")
    # Posting the issuance anyway (as the page would) is refused by the API.
    refused = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        (async () => {
          const s = await (await fetch('/console/session')).json();
          const r = await fetch('/v1/private-certificates', {method: 'POST', headers: {
            'Content-Type': 'application/json', 'X-OpenCCM-CSRF': s.csrf},
            body: JSON.stringify({issuer_id: '00000000-0000-0000-0000-000000000000',
              distinguished_name: {common_name: 'x'}, validity: {type: 'DAY', value: 1}})});
          done([r.status, await r.json()]);
        })();
    """)
    check(refused[0] == 403 and refused[1]["error_code"] == "PCA.90010003", f"not refused: {refused}")
    # Without the anti-forgery header the session cookie alone is refused.
    forged = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/v1/private-certificates').then((r) => done(r.status));
    """)
    check(forged == 401, f"a call without X-OpenCCM-CSRF answered {forged}")
    # A page it may not read says why.
    open_page("/cas")
    alert = visible("main p.notice.error")
    check("Refused" in alert.text and "PCA.90010003" in alert.text, f"refusal not explained: {alert.text}")
    shot("readonly-refused")
    # A phone: the pages reflow, nothing wider than the screen.
    driver.set_window_size(390, 844)
    open_page("/certs")
    heading("Private certificates")
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    check(overflow <= 0, f"the certificate list is {overflow}px wider than a phone")
    shot("phone-cert-list")
    driver.set_window_size(1280, 800)
    find("#signout").click()
    find("#signin-submit")
    open_page("/certs")
    find("#signin-submit")
    print(f"console: ok ({shot_count} screenshots in {SHOTS})")
except Exception:
    shot("failure")
    with open(os.path.join(SHOTS, "failure.html"), "w") as f:
        f.write(driver.page_source)
    raise
finally:
    driver.quit()
