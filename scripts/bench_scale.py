#!/usr/bin/env python3
"""OpenCCM at scale: the same requests against stores holding 10 k, 1 M and
10 M real, signed certificates, on SQLite and on PostgreSQL. Prints one
table per store, each figure at every size next to the smallest, and the
verdict against the targets.

Targets (issue "Scale and performance", items 2 and 4): every request
figure at the largest size within 20 % of the smallest (flat); start-up
under 2 s; at most 4 KB of store per certificate; the server's resident
memory at most 256 MiB.

The stores are filled by `openccm-fixture` (crates/openccm-fixture: 100 CAs
over 4 accounts, a mix of expired, revoked, tagged, deleted and
server-generated-key certificates; see its module comment). Requests are
made as the first account, which holds a quarter of the certificates.

Run it with scripts/bench-scale. Environment:
  BENCH_SECONDS      seconds per measurement (default 5)
  BENCH_SCALE_SIZES  comma-separated sizes (default 10000,1000000,10000000)
  BENCH_SCALE_STORES sqlite,postgres (default both)
  BENCH_SCALE_KEEP   a directory: keep each filled store there (for reruns)
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (ROOT, WORK, OpenCcm, csr_pem, csr_pems, lua, lua_bodies, machine_facts,  # noqa: E402
                      request, rss_peak_kib, start_postgres, wrk)

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
SIZES = [int(s) for s in os.environ.get("BENCH_SCALE_SIZES", "10000,1000000,10000000").split(",")]
STORES = os.environ.get("BENCH_SCALE_STORES", "sqlite,postgres").split(",")
FIXTURE = os.path.join(ROOT, "target", "release", "openccm-fixture")
CONCURRENCY = 8
FLAT = 0.20
# 2,000 names, each its own: about as many as a figure issues.
VARIED_CSRS = []


def fill(data, url, n):
    args = [FIXTURE, "--data-dir", data, "--certificates", str(n)]
    if url:
        args += ["--database-url", url]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def account_token(server, data):
    with open(os.path.join(data, "fixture-accounts.json")) as f:
        first = json.load(f)[0]
    return server.token(first)


def get(base, path, token):
    _, body = request("GET", f"{base}{path}", None, token)
    return json.loads(body)


def store_bytes(data, pg):
    if pg is None:
        return sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.startswith("openccm.db"))
    psql, url = pg
    # A bulk load leaves the planner without statistics until autovacuum
    # comes round; a store in service has them. VACUUM cannot run inside
    # the transaction psql wraps a multi-statement -c in: one call each.
    subprocess.run([psql, url, "-qc", "VACUUM ANALYZE"], check=True, capture_output=True)
    out = subprocess.run([psql, url, "-Atc", "CHECKPOINT; SELECT pg_database_size(current_database())"],
                         check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1])


def measure(server, token, data, ca, ca_crl):
    """Every figure at one size: {name: (value, unit, higher_is_better)}."""
    base = server.base
    figures = {}

    def rate(name, path, method="GET", body=None, c=CONCURRENCY):
        script = lua(f"scale-{name}.lua", method, body, token)
        fig = wrk(f"{base}{path}", c, script, seconds=SECONDS)
        figures[name] = (fig.rps, "req/s", True)
        figures[name + " p50"] = (fig.p50, "ms", False)

    first = get(base, "/v1/private-certificates?limit=1", token)["certificates"][0]["certificate_id"]
    rate("ShowCertificate", f"/v1/private-certificates/{first}")
    rate("List, first page", "/v1/private-certificates?limit=10")
    rate("List, page at offset 2000", "/v1/private-certificates?limit=10&offset=2000")
    rate("List, status ISSUED", "/v1/private-certificates?limit=10&status=ISSUED")
    rate("List, status REVOKED", "/v1/private-certificates?limit=10&status=REVOKED")
    rate("List, status EXPIRED", "/v1/private-certificates?limit=10&status=EXPIRED")

    rate("List, sorted by common name", "/v1/private-certificates?limit=10&sort_key=common_name&sort_dir=ASC")
    rate("List, sorted by issuer name", "/v1/private-certificates?limit=10&sort_key=issuer_name&sort_dir=ASC")
    rate("List, sorted by expiry", "/v1/private-certificates?limit=10&sort_key=not_after")
    rate("Certificate quota", "/v1/private-certificates/quotas")
    rate("Export (PEM, no key)", f"/v1/private-certificates/{first}/export", "POST",
         {"type": "OTHER", "is_compressed": "false"})
    issue = {"issuer_id": ca, "csr": csr_pem("EC256"), "validity": {"type": "DAY", "value": 30}}
    rate("CSR issuance EC256 (c=32)", "/v1/private-certificates/csr", "POST", issue, c=32)
    # Every request a new name, as in service: each one's name index entries
    # land at their own places in the index.
    varied = [{**issue, "csr": csr} for csr in VARIED_CSRS]
    fig = wrk(f"{base}/v1/private-certificates/csr", 32, lua_bodies("scale-varied.lua", "POST", varied, token),
              seconds=SECONDS)
    figures["CSR issuance EC256, varied names (c=32)"] = (fig.rps, "req/s", True)
    figures["CSR issuance EC256, varied names (c=32) p50"] = (fig.p50, "ms", False)

    rate("List, keyword (one match)", "/v1/private-certificates?limit=10&name=host-000000104")
    tag_filter = {"tags": [{"key": "team", "values": ["team-6"]}], "limit": 10, "offset": 0}
    rate("Filter by tag", "/v1/private-certificates/resource-instances/filter", "POST", tag_filter)
    rate("Count by tag", "/v1/private-certificates/resource-instances/count", "POST", tag_filter)

    # The CRL of a CA holding a hundredth of the revocations: built on
    # first request after start-up (the fixture's revocations are new to it).
    started = time.monotonic()
    with urllib.request.urlopen(f"{base}{ca_crl}", timeout=600) as r:
        crl = r.read()
    figures["CRL build (first request)"] = ((time.monotonic() - started) * 1000, "ms", False)
    figures["CRL bytes"] = (len(crl), "B", None)

    # Revocations: 800 distinct certificates, eight at a time.
    issued = get(base, "/v1/private-certificates?limit=1000&status=ISSUED", token)["certificates"]
    ids = [c["certificate_id"] for c in issued][:800]

    def revoke(cert):
        request("POST", f"{base}/v1/private-certificates/{cert}/revoke", {"reason": "SUPERSEDED"}, token,
                expect=(200, 204))

    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(revoke, ids))
    figures["Revoke"] = (len(ids) / (time.monotonic() - started), "req/s", True)
    return figures


def one_size(store, n, pg_cluster):
    data = os.path.join(WORK, f"{store}-{n}")
    url, pg = None, None
    if store == "postgres":
        _, cluster_url, psql = pg_cluster
        db = f"scale_{n}"
        subprocess.run([psql, cluster_url, "-qc", f"CREATE DATABASE {db}"], check=True, capture_output=True)
        url = cluster_url.rsplit("/", 1)[0] + "/" + db
        pg = (psql, url)
    started = time.monotonic()
    filled = fill(data, url, n)
    print(f"  filled {n} certificates in {time.monotonic() - started:.0f} s "
          f"({filled['per_second']:.0f}/s after {filled['cas_seconds']:.1f} s of accounts and CAs)", flush=True)
    size = store_bytes(data, pg)
    server = OpenCcm(data=data, database_url=url)
    try:
        token = account_token(server, data)
        cas = get(server.base, "/v1/private-certificate-authorities?limit=1", token)["certificate_authorities"]
        ca = cas[0]
        ca_crl = f"/pca/crl/{ca['ca_id']}/{ca['crl_configuration']['crl_name']}.crl"
        figures = measure(server, token, data, ca["ca_id"], ca_crl)
        figures["Start-up"] = (server.startup_seconds, "s", False)
        figures["Store bytes per certificate"] = (size / n, "B", False)
        figures["Peak resident memory"] = (rss_peak_kib(server.proc.pid) / 1024, "MiB", False)
    finally:
        server.stop()
    if os.environ.get("BENCH_SCALE_KEEP") and store == "sqlite":
        shutil.move(data, os.path.join(os.environ["BENCH_SCALE_KEEP"], f"{store}-{n}"))
    else:
        shutil.rmtree(data, ignore_errors=True)
        if pg:
            subprocess.run([pg_cluster[2], pg_cluster[1], "-qc", f"DROP DATABASE scale_{n}"], capture_output=True)
    return figures


def verdicts(store, by_size):
    small, large = SIZES[0], SIZES[-1]
    names = list(by_size[small].keys())
    header = "| figure | " + " | ".join(f"{n:,}" for n in SIZES) + f" | {large:,} vs {small:,} | verdict |"
    print(f"\n### {store}\n")
    print(header)
    print("|" + "---|" * (len(SIZES) + 3))
    misses = []
    for name in names:
        value, unit, higher = by_size[small][name]
        cells = [f"{by_size[n][name][0]:,.1f} {unit}" for n in SIZES]
        last = by_size[large][name][0]
        if name == "Start-up":
            ok, ratio = last < 2.0, f"{last:.2f} s"
            verdict = "target < 2 s"
        elif name == "Store bytes per certificate":
            ok, ratio, verdict = last <= 4096, f"{last:,.0f} B", "target <= 4 KB"
        elif name == "Peak resident memory":
            ok, ratio, verdict = last <= 256, f"{last:,.0f} MiB", "target <= 256 MiB"
        elif higher is None or name.startswith("CRL"):
            ok, ratio, verdict = True, f"{last / value:.1f}x" if value else "-", "shown (grows with the revocations)"
        elif higher:
            ok, ratio = last >= (1 - FLAT) * value, f"{last / value:.2f}x"
            verdict = "flat: >= 0.80x"
        else:
            ok, ratio = last <= (1 + FLAT) * value, f"{last / value:.2f}x"
            verdict = "flat: <= 1.20x"
        if name.endswith(" p50") and ok is False:
            verdict += " (latency)"
        mark = "PASS" if ok else "MISS"
        if not ok:
            misses.append(name)
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio} | {mark} {verdict} |")
    return misses


def main():
    machine_facts(store=", ".join(STORES), seconds=SECONDS)
    print(f"sizes: {', '.join(f'{n:,}' for n in SIZES)}; concurrency {CONCURRENCY} unless named; "
          f"{SECONDS} s per figure")
    pg_cluster = None
    misses = []
    VARIED_CSRS.extend(csr_pems([f"web-{i:05}.varied-{i % 7}.example.net" for i in range(2000)]))
    try:
        for store in STORES:
            if store == "postgres":
                stop, url, pgdata = start_postgres()
                psql = os.path.join(os.path.dirname(sorted(
                    os.path.join("/usr/lib/postgresql", v, "bin", "initdb")
                    for v in os.listdir("/usr/lib/postgresql"))[-1]), "psql")
                pg_cluster = (stop, url, psql)
            by_size = {}
            for n in SIZES:
                print(f"\n== {store}, {n:,} certificates", flush=True)
                by_size[n] = one_size(store, n, pg_cluster)
                for name, (value, unit, _) in by_size[n].items():
                    print(f"  {name}: {value:,.2f} {unit}")
            misses += [f"{store}: {m}" for m in verdicts(store, by_size)]
            if pg_cluster:
                pg_cluster[0]()
                pg_cluster = None
    finally:
        if pg_cluster:
            pg_cluster[0]()
    print("\n== summary")
    print("  every figure within its target" if not misses else "  MISS " + "\n  MISS ".join(misses))
    shutil.rmtree(WORK, ignore_errors=True)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
