#!/usr/bin/env python3
"""OpenCCM revocation benchmark: OCSP and CRLs measured side by side, in one
run, with nginx serving a static file, cfssl signing OCSP responses, and the
machine's raw signing rate. Prints every target next to its figure.

Targets (issue "Revocation that relying parties see", item 5):
  OCSP over GET for a cached status at concurrency 64 >= 50 % of nginx
  serving a 1 KB static file.
  OCSP needing a fresh signature (POST with a nonce) >= 2x the rate of
  cfssl's ocspsign (`cfssl serve`, /api/v1/cfssl/ocspsign) on an EC P-256 CA,
  both at concurrency 64.
  A full CRL of 1,000,000 revoked entries built and signed in under 10 s, with
  the server's memory bounded; served from cache after that.
  Revoke throughput at concurrency 32 with CRL and OCSP on >= 80 % of what it
  is with both off.

Run it with scripts/bench-revocation (which installs wrk, nginx and
golang-cfssl and builds the release binary). Environment: BENCH_SECONDS
(default 10).
"""

import base64
import json
import os
import random
import sqlite3
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bench  # noqa: E402  (what the benchmarks share: servers, wrk, reporting)

from benchlib import (SECONDS, WORK, dn, lua, post_script, report, request, rss_now_kib,  # noqa: E402
                      rss_peak_kib, sh, wrk)

ENTRIES = int(os.environ.get("BENCH_CRL_ENTRIES", "1000000"))


def publishing_ca(base, token, name, crl=True, ocsp=True):
    body = {"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
            "distinguished_name": dn(f"Bench {name}"), "validity": {"type": "YEAR", "value": 10}}
    if crl:
        body["crl_configuration"] = {"enabled": True, "obs_bucket_name": "bench", "valid_days": 7, "crl_name": name}
    _, out = request("POST", f"{base}/v1/private-certificate-authorities", body, token)
    ca = json.loads(out)["ca_id"]
    if ocsp:
        request("POST", f"{base}/v1/private-certificate-authorities/{ca}/ocsp/switch", {"ocsp_switch": True}, token,
                expect=(204,))
    _, out = request("POST", f"{base}/v1/private-certificate-authorities/{ca}/export", {}, token)
    return ca, json.loads(out)["certificate"]


def issue_pem(base, token, ca):
    _, out = request("POST", f"{base}/v1/private-certificates", {
        "issuer_id": ca, "key_algorithm": "EC256", "distinguished_name": {"common_name": "ocsp.example.com"},
        "validity": {"type": "DAY", "value": 30}}, token)
    cert = json.loads(out)["certificate_id"]
    _, out = request("POST", f"{base}/v1/private-certificates/{cert}/export",
                     {"type": "OTHER", "is_compressed": "false"}, token)
    return cert, json.loads(out)["certificate"]


def write(name, text):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def start_cfssl():
    """cfssl serve with an EC P-256 CA as its OCSP responder, and a leaf of
    that CA whose status it signs."""
    proc, base, ca, ca_key, _ = bench.start_cfssl("ocsp", ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                                                  responder=True)
    leaf_key, leaf_csr, leaf = (os.path.join(WORK, n) for n in ("cf-leaf.key", "cf-leaf.csr", "cf-leaf.pem"))
    sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", leaf_key, "-out", leaf_csr, "-subj", "/CN=leaf")
    sh("openssl", "x509", "-req", "-in", leaf_csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
       "-out", leaf, "-days", "30")
    with open(leaf) as f:
        body = {"certificate": f.read(), "status": "good"}
    return proc, f"{base}/ocspsign", body


def revoke_script(token, prefix):
    path = os.path.join(WORK, f"{os.path.basename(prefix)}.lua")
    with open(path, "w") as f:
        f.write(f"""
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  ids = {{}}
  for line in io.lines("{prefix}." .. tid) do ids[#ids + 1] = line end
  i = 0
end
local headers = {{["Content-Type"] = "application/json", ["X-Auth-Token"] = "{token}"}}
function request()
  i = i + 1
  return wrk.format("POST", "/v1/private-certificates/" .. ids[i] .. "/revoke", headers, '{{"reason": "SUPERSEDED"}}')
end
""")
    return path


def main():
    bench.machine_facts()
    sign, verify = bench.openssl_speed("ecdsap256")
    print(f"\n== raw signing rate (openssl speed ecdsap256, one core): sign {sign:.0f}/s, verify {verify:.0f}/s")
    nginx, nginx_port = bench.start_nginx()
    cfssl, cfssl_url, cfssl_body = start_cfssl()
    ccm = bench.OpenCcm()
    server, base = ccm.proc, ccm.base
    db = os.path.join(ccm.data, "openccm.db")
    try:
        token = ccm.token()

        print("\n== OCSP (EC256 CA, signed by the CA key)")
        ca, ca_pem = publishing_ca(base, token, "ocsp")
        _, cert_pem = issue_pem(base, token, ca)
        ca_file, cert_file = write("ocsp-ca.pem", ca_pem), write("ocsp-cert.pem", cert_pem)
        plain, nonced = os.path.join(WORK, "plain.der"), os.path.join(WORK, "nonce.der")
        sh("openssl", "ocsp", "-issuer", ca_file, "-cert", cert_file, "-no_nonce", "-reqout", plain)
        sh("openssl", "ocsp", "-issuer", ca_file, "-cert", cert_file, "-reqout", nonced)
        with open(plain, "rb") as f:
            get_url = f"{base}/pca/ocsp/{ca}/" + urllib.parse.quote(base64.b64encode(f.read()).decode(), safe="")
        urllib.request.urlopen(get_url).read()
        nginx_rps, nginx_p50, nginx_p99 = wrk(f"http://127.0.0.1:{nginx_port}/1k.html", 64)
        rps, p50, p99 = wrk(get_url, 64)
        print(f"  nginx 1 KB file c=64:        {nginx_rps:8.0f} req/s, p50 {nginx_p50:.2f} ms, p99 {nginx_p99:.2f} ms")
        print(f"  OCSP GET, cached status c=64: {rps:8.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        report("OCSP GET cached at c=64", f"{rps / nginx_rps:.1%} of nginx ({rps:.0f} vs {nginx_rps:.0f} req/s)",
               ">= 50%", rps >= 0.5 * nginx_rps)

        with open(nonced, "rb") as f:
            fresh_script = post_script("ocsp-fresh.lua", f.read(), "application/ocsp-request")
        cfssl_script = post_script("cfssl.lua", json.dumps(cfssl_body).encode(), "application/json")
        cf_rps, cf_p50, cf_p99 = wrk(cfssl_url, 64, cfssl_script)
        rps, p50, p99 = wrk(f"{base}/pca/ocsp/{ca}", 64, fresh_script)
        print(f"  cfssl ocspsign c=64:          {cf_rps:8.0f} req/s, p50 {cf_p50:.2f} ms, p99 {cf_p99:.2f} ms")
        print(f"  OCSP POST + nonce c=64:       {rps:8.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms"
              f" (each a fresh signature; raw capacity {bench.CORES * sign:.0f}/s)")
        report("OCSP with a fresh signature at c=64", f"{rps / cf_rps:.2f}x cfssl ({rps:.0f} vs {cf_rps:.0f}/s)",
               ">= 2x", rps >= 2 * cf_rps)

        print(f"\n== full CRL of {ENTRIES} revoked entries (EC256 CA)")
        big, _ = publishing_ca(base, token, "big", ocsp=False)
        # The revocations are written straight into the store: issuing and
        # revoking a million certificates through the API would measure
        # issuance, not the CRL.
        started = time.time()
        conn = sqlite3.connect(db, timeout=60)
        rng = random.Random(7)
        far = int(time.time() * 1000) + 365 * 86_400_000
        now_ms = int(time.time() * 1000)
        with conn:
            conn.executemany(
                "INSERT INTO revocations (issuer_id, serial, seq, revoked_at, reason, not_after) VALUES (?, ?, ?, ?, ?, ?)",
                ((big, f"{rng.randrange(1, 128):02x}{rng.getrandbits(120):030x}", n, now_ms, "KEY_COMPROMISE", far)
                 for n in range(1, ENTRIES + 1)))
            conn.execute("INSERT INTO crl_counters (ca_id, revocation_seq, crl_number) VALUES (?, ?, 0)", (big, ENTRIES))
        conn.close()
        print(f"  ({ENTRIES} rows written to the store in {time.time() - started:.1f} s)")
        rss_before, peak_before = rss_now_kib(server.pid), rss_peak_kib(server.pid)
        started = time.time()
        with urllib.request.urlopen(f"{base}/pca/crl/{big}/big.crl", timeout=600) as r:
            crl = r.read()
        built = time.time() - started
        peak = rss_peak_kib(server.pid)
        crl_file = os.path.join(WORK, "big.crl")
        with open(crl_file, "wb") as f:
            f.write(crl)
        listed = sh("openssl", "crl", "-inform", "DER", "-in", crl_file, "-noout", "-text").count("Serial Number:")
        started = time.time()
        with urllib.request.urlopen(f"{base}/pca/crl/{big}/big.crl", timeout=600) as r:
            again = r.read()
        cached = time.time() - started
        print(f"  built, signed, stored and served: {built:.2f} s, {len(crl) / 1e6:.1f} MB, {listed} entries "
              f"(OpenSSL parses it); served again from cache: {cached * 1000:.0f} ms")
        print(f"  server memory: {rss_before / 1024:.0f} MiB resident before; peak {peak_before / 1024:.0f} -> "
              f"{peak / 1024:.0f} MiB ({(peak - max(peak_before, rss_before)) / 1024:.0f} MiB for a "
              f"{len(crl) / 2**20:.0f} MiB CRL)")
        report(f"full CRL of {ENTRIES} entries", f"{built:.2f} s", "< 10 s",
               built < 10 and listed == ENTRIES and again == crl)

        print("\n== revoke throughput at c=32 (CSR-issued EC256 certificates)")
        csr_path = os.path.join(WORK, "rv.csr")
        sh("openssl", "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-keyout", os.path.join(WORK, "rv.key"), "-subj", "/CN=revoke.example.com", "-out", csr_path)
        with open(csr_path) as f:
            csr = f.read()
        cas = {"off": publishing_ca(base, token, "rv-off", crl=False, ocsp=False)[0],
               "on": publishing_ca(base, token, "rv-on")[0]}
        rounds = [("off", 0), ("on", 0), ("off", 1), ("on", 1)]
        seconds = max(2, SECONDS // 3)
        # A revoke costs no signature: it runs faster than issuance, and a
        # round must not run out of certificates (wrk stops on the first
        # missing one). Issue until each round has 30,000/s worth.
        needed = 2 * seconds * 30_000

        def unrevoked(ca_id):
            conn = sqlite3.connect(db, timeout=60)
            try:
                return [r[0] for r in conn.execute(
                    "SELECT certificate_id FROM certificates WHERE issuer_id = ? AND revoked_at IS NULL "
                    "ORDER BY certificate_id", (ca_id,))]
            finally:
                conn.close()

        ids = {}
        for label, ca_id in cas.items():
            script = lua(f"rv-issue-{label}.lua", "POST", {"issuer_id": ca_id, "csr": csr,
                                                          "validity": {"type": "DAY", "value": 30}}, token)
            while len(unrevoked(ca_id)) < needed:
                wrk(f"{base}/v1/private-certificates/csr", 32, script, seconds=5)
            ids[label] = unrevoked(ca_id)
        threads = max(1, min(32, bench.CORES))
        rates = {"off": [], "on": []}
        for label, n in rounds:
            mine = ids[label][n::2]
            prefix = os.path.join(WORK, f"ids-{label}-{n}")
            for t in range(threads):
                with open(f"{prefix}.{t}", "w") as f:
                    f.write("\n".join(mine[t::threads]) + "\n")
            rps, p50, p99 = wrk(f"{base}/v1/private-certificates/x/revoke", 32, revoke_script(token, prefix),
                                seconds=seconds)
            rates[label].append(rps)
            print(f"  CRL/OCSP {label:3} round {n + 1}: {rps:8.0f} revokes/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        on, off = sum(rates["on"]) / 2, sum(rates["off"]) / 2
        report("revoke throughput at c=32 with CRL and OCSP on", f"{on / off:.1%} of off ({on:.0f} vs {off:.0f}/s)",
               ">= 80%", on >= 0.8 * off)
    finally:
        for proc in (server, nginx, cfssl):
            proc.terminate()
        for proc in (server, nginx, cfssl):
            proc.wait(timeout=30)

    print("\n== summary")
    for name, measured, target, ok in bench.results:
        print(f"  {'PASS' if ok else 'MISS'}  {name}: {measured} (target {target})")
    return 0 if all(ok for *_, ok in bench.results) else 1


if __name__ == "__main__":
    sys.exit(main())
