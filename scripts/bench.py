#!/usr/bin/env python3
"""OpenCCM issuance and read benchmark, measured side by side with the
machine's raw signing rate (`openssl speed`) and with nginx serving a static
file, in one run. Prints the machine facts and every target next to its figure.

Targets (issue "Private CA", item 8):
  CSR issuance at concurrency 32, every certificate durably stored before its
  response (the default embedded SQLite store, synchronous=FULL):
    EC256 >= 40 %, RSA2048 >= 70 %, SM2 >= 70 % of the raw capacity, where the
    raw capacity of one issuance is one signature plus one CSR-signature check:
    cores x 1 / (t_sign + t_verify) from `openssl speed`.
  EC256 p99 latency at concurrency 1 <= 2 ms.
  ShowCertificate at concurrency 64, authenticated: >= 30 % of nginx's requests
  per second for a 1 KB static file.
  ShowCertificate p99 < 20 ms while RSA-4096 key generations keep the machine busy.

Run it with scripts/bench (which installs wrk and nginx and builds the release
binary). Environment: BENCH_SECONDS (default 10); BENCH_BINARY (another
openccm binary to measure, e.g. an older build for a before/after comparison).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("BENCH_BINARY") or os.path.join(ROOT, "target", "release", "openccm")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CORES = os.cpu_count() or 1
WORK = tempfile.mkdtemp(prefix="openccm-bench-")
results = []
speeds_raw = {}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sh(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, check=True, **kw).stdout


def machine_facts():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MiB"
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print("== machine")
    print(f"cpu: {model}; cores: {CORES}; memory: {mem}; kernel: {os.uname().release}")
    print(f"{sh('openssl', 'version').strip()}; {sh('wrk', '-v') if False else 'wrk'}; "
          f"{subprocess.run(['nginx', '-v'], capture_output=True, text=True).stderr.strip()}; openccm {commit}"
          + (f" (binary {BINARY})" if os.environ.get("BENCH_BINARY") else ""))
    print(f"seconds per measurement: {SECONDS}; store: embedded SQLite, synchronous=FULL, group commit")


def openssl_speed(algorithm):
    out = sh("openssl", "speed", "-seconds", "3", algorithm)
    line = [l for l in out.splitlines() if l.strip()][-1]
    numbers = re.findall(r"[\d.]+", line)
    sign, verify = float(numbers[-2]), float(numbers[-1])
    return sign, verify


def request(method, url, body=None, token=None, expect=(200, 201)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(req, timeout=120) as r:
        if r.status not in expect:
            raise RuntimeError(f"{method} {url}: {r.status}")
        return r.headers, r.read()


def wrk(url, connections, script=None, seconds=SECONDS):
    threads = max(1, min(connections, CORES))
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        args += ["-s", script]
    out = sh(*args, url)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def latency(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise RuntimeError(f"wrk saw failures:\n{out}")
    return rps, latency(50), latency(99)


def lua(name, method, body, token):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(f"wrk.method = {json.dumps(method)}\n")
        if body is not None:
            f.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write(f'wrk.headers["X-Auth-Token"] = {json.dumps(token)}\n')
    return path


def report(name, measured, target, ok):
    results.append((name, measured, target, ok))
    print(f"  {'PASS' if ok else 'MISS'}  {name}: {measured}  (target {target})")


def start_nginx():
    www = os.path.join(WORK, "www")
    os.makedirs(www)
    os.chmod(WORK, 0o755)
    with open(os.path.join(www, "1k.html"), "w") as f:
        f.write("x" * 1024)
    os.chmod(www, 0o755)
    port = free_port()
    conf = os.path.join(WORK, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes {CORES};
daemon off;
pid {WORK}/nginx.pid;
error_log {WORK}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server {{ listen 127.0.0.1:{port}; root {www}; location / {{ }} }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/1k.html", timeout=1)
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not start")


def start_openccm():
    data = os.path.join(WORK, "data")
    port = free_port()
    log = open(os.path.join(WORK, "openccm.log"), "w")
    # The cloud's default quota (100000 certificates) is less than a fast run issues.
    proc = subprocess.Popen([BINARY, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
                             "--certificate-quota", "100000000"],
                            stdout=subprocess.PIPE, stderr=log, text=True)
    for line in proc.stdout:
        if line.startswith("openccm listening on"):
            break
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    creds = {}
    with open(os.path.join(data, "credentials.toml")) as f:
        for line in f:
            m = re.match(r'(\w+) = "(.*)"', line)
            if m:
                creds[m.group(1)] = m.group(2)
    return proc, f"http://127.0.0.1:{port}", creds


def token_for(base, creds):
    headers, _ = request("POST", f"{base}/v3/auth/tokens", {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": creds["user_name"], "password": creds["password"], "domain": {"name": creds["domain_name"]}}}}}})
    return headers["X-Subject-Token"]


def dn(cn):
    return {"common_name": cn, "country": "CN", "state": "Guangdong", "locality": "Shenzhen",
            "organization": "Bench", "organizational_unit": "IT"}


def main():
    machine_facts()
    print("\n== raw signing rate (openssl speed, one core)")
    speeds = {}
    for api_name, speed_name in [("EC256", "ecdsap256"), ("RSA2048", "rsa2048"), ("SM2", "sm2")]:
        sign, verify = openssl_speed(speed_name)
        speeds_raw[api_name] = (sign, verify)
        capacity = CORES / (1 / sign + 1 / verify)
        speeds[api_name] = capacity
        print(f"  {api_name}: sign {sign:.0f}/s, verify {verify:.0f}/s -> capacity of one issuance "
              f"x {CORES} cores = {capacity:.0f}/s")

    nginx, nginx_port = start_nginx()
    server, base, creds = start_openccm()
    try:
        token = token_for(base, creds)
        print("\n== CSR issuance (POST /v1/private-certificates/csr)")
        for alg, hash_, keyspec, target in [
            ("EC256", "SHA256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], 0.40),
            ("RSA2048", "SHA256", ["-newkey", "rsa:2048"], 0.70),
            ("SM2", "SM3", None, 0.70),
        ]:
            _, body = request("POST", f"{base}/v1/private-certificate-authorities", {
                "type": "ROOT", "key_algorithm": alg, "signature_algorithm": hash_,
                "distinguished_name": dn(f"Bench {alg} Root"), "validity": {"type": "YEAR", "value": 10}}, token)
            ca = json.loads(body)["ca_id"]
            csr_path = os.path.join(WORK, f"{alg}.csr")
            if keyspec is None:
                sh("openssl", "genpkey", "-algorithm", "SM2", "-out", os.path.join(WORK, "sm2.key"))
                sh("openssl", "req", "-new", "-key", os.path.join(WORK, "sm2.key"), "-sm3", "-sigopt",
                   "distid:1234567812345678", "-subj", "/CN=bench.example.com", "-out", csr_path)
            else:
                sh("openssl", "req", "-new", "-nodes", *keyspec, "-keyout", os.path.join(WORK, f"{alg}.key"),
                   "-subj", "/CN=bench.example.com", "-out", csr_path)
            with open(csr_path) as f:
                csr = f.read()
            script = lua(f"issue-{alg}.lua", "POST", {"issuer_id": ca, "csr": csr,
                                                       "validity": {"type": "DAY", "value": 30}}, token)
            capacity = speeds[alg]
            for c in (1, 8, 32):
                rps, p50, p99 = wrk(f"{base}/v1/private-certificates/csr", c, script)
                share = rps / capacity
                print(f"  {alg} c={c:<2}: {rps:8.0f} issuances/s ({share:6.1%} of capacity), p50 {p50:.2f} ms, p99 {p99:.2f} ms")
                if c == 32:
                    report(f"{alg} issuance at c=32", f"{share:.1%} of {capacity:.0f}/s", f">= {target:.0%}", share >= target)
                    if alg == "SM2":
                        # An SM2 issuance is a dual certificate: the CA also generates the encryption
                        # key pair and signs a second certificate, which the one-signature formula
                        # does not count.
                        # A key generation is one fixed-base scalar multiplication, like a signature.
                        sign_rate, verify_rate = speeds_raw["SM2"]
                        dual = CORES / (3 / sign_rate + 1 / verify_rate)
                        print(f"        (an SM2 issuance signs twice and generates a key pair: the machine's ceiling for"
                              f" that work is {dual:.0f}/s = {dual / capacity:.0%} of the formula's capacity;"
                              f" measured {rps / dual:.0%} of it)")
                if c == 1 and alg == "EC256":
                    report("EC256 issuance p99 at c=1", f"{p99:.2f} ms", "<= 2 ms", p99 <= 2.0)

        print("\n== ShowCertificate (GET /v1/private-certificates/{id}, X-Auth-Token)")
        _, body = request("POST", f"{base}/v1/private-certificate-authorities", {
            "type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
            "distinguished_name": dn("Bench Read Root"), "validity": {"type": "YEAR", "value": 10}}, token)
        read_ca = json.loads(body)["ca_id"]
        _, body = request("POST", f"{base}/v1/private-certificates", {
            "issuer_id": read_ca, "key_algorithm": "EC256", "distinguished_name": {"common_name": "read.example.com"},
            "validity": {"type": "DAY", "value": 30}}, token)
        cert = json.loads(body)["certificate_id"]
        show = lua("show.lua", "GET", None, token)
        nginx_rps, nginx_p50, nginx_p99 = wrk(f"http://127.0.0.1:{nginx_port}/1k.html", 64)
        rps, p50, p99 = wrk(f"{base}/v1/private-certificates/{cert}", 64, show)
        print(f"  nginx 1 KB file c=64: {nginx_rps:8.0f} req/s, p50 {nginx_p50:.2f} ms, p99 {nginx_p99:.2f} ms")
        print(f"  ShowCertificate c=64: {rps:8.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        report("ShowCertificate at c=64", f"{rps / nginx_rps:.1%} of nginx ({rps:.0f} vs {nginx_rps:.0f} req/s)",
               ">= 30%", rps >= 0.30 * nginx_rps)

        print("\n== ShowCertificate under RSA-4096 key generation")
        stop = threading.Event()
        generated = []

        def keygen_loop():
            while not stop.is_set():
                request("POST", f"{base}/v1/private-certificates", {
                    "issuer_id": read_ca, "key_algorithm": "RSA4096", "distinguished_name": {"common_name": "rsa.example.com"},
                    "validity": {"type": "DAY", "value": 1}}, token)
                generated.append(time.time())

        workers = [threading.Thread(target=keygen_loop, daemon=True) for _ in range(CORES * 2)]
        for w in workers:
            w.start()
        time.sleep(1)
        started = time.time()
        rps, p50, p99 = wrk(f"{base}/v1/private-certificates/{cert}", 64, show)
        during = sum(1 for t in generated if t >= started)
        stop.set()
        for w in workers:
            w.join()
        print(f"  ShowCertificate c=64 with {len(workers)} RSA-4096 issuances in flight ({during} completed meanwhile): "
              f"{rps:.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        report("ShowCertificate p99 under RSA-4096 key generation", f"{p99:.2f} ms", "< 20 ms", p99 < 20 and during > 0)
    finally:
        server.terminate()
        nginx.terminate()
        server.wait(timeout=30)
        nginx.wait(timeout=30)

    print("\n== summary")
    for name, measured, target, ok in results:
        print(f"  {'PASS' if ok else 'MISS'}  {name}: {measured} (target {target})")
    shutil.rmtree(WORK, ignore_errors=True)
    return 0 if all(ok for *_, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())
