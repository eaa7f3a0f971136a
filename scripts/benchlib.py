"""What the benchmarks share: the machine's facts, the servers they run side
by side (OpenCCM on SQLite or PostgreSQL, nginx, cfssl), wrk, and the
PASS/MISS report. Used by scripts/bench.py, scripts/bench_revocation.py and
scripts/bench_scale.py; not a benchmark itself.

Environment: BENCH_SECONDS (seconds per measurement, default 10) and
BENCH_BINARY (another openccm binary to measure, e.g. an older build for a
before/after comparison).
"""

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sh(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, check=True, **kw).stdout


def machine_facts(store="embedded SQLite, synchronous=FULL, group commit", seconds=None):
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
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    cfssl = subprocess.run(["cfssl", "version"], capture_output=True, text=True).stdout.split("\n")[0].strip()
    load = open("/proc/loadavg").read().split()[:3]
    print("== machine")
    print(f"cpu: {model}; cores: {CORES}; memory: {mem}; kernel: {os.uname().release}; "
          f"load average before the run: {' '.join(load)}")
    print(f"{sh('openssl', 'version').strip()}; {nginx}; cfssl {cfssl}; openccm {commit}"
          + (f" (binary {BINARY})" if os.environ.get("BENCH_BINARY") else ""))
    print(f"seconds per measurement: {seconds or SECONDS}; store: {store}")


def openssl_speed(algorithm):
    """(signatures/s, verifications/s) of one core."""
    out = sh("openssl", "speed", "-seconds", "3", algorithm)
    line = [l for l in out.splitlines() if l.strip()][-1]
    numbers = re.findall(r"[\d.]+", line)
    return float(numbers[-2]), float(numbers[-1])


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


class Figure:
    """One wrk run: requests per second and latency percentiles in ms."""

    def __init__(self, rps, p50, p99):
        self.rps, self.p50, self.p99 = rps, p50, p99

    def __iter__(self):
        return iter((self.rps, self.p50, self.p99))

    @property
    def spread(self):
        return self.p99 / self.p50 if self.p50 > 0 else float("inf")

    def __str__(self):
        return f"{self.rps:8.0f}/s, p50 {self.p50:6.2f} ms, p99 {self.p99:6.2f} ms (p99/p50 {self.spread:.1f})"

    @staticmethod
    def mean(figures):
        n = len(figures)
        return Figure(sum(f.rps for f in figures) / n, sum(f.p50 for f in figures) / n,
                      sum(f.p99 for f in figures) / n)


def wrk(url, connections, script=None, seconds=None, threads=None):
    threads = threads or max(1, min(connections, CORES))
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds or SECONDS}s", "--latency", "--timeout", "10s"]
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
    return Figure(rps, latency(50), latency(99))


def alternate(runs, rounds=2):
    """Runs each measurement in turn, `rounds` times over (a, b, a, b, ...),
    so that a noisy neighbour hurts both sides alike; the mean of each."""
    figures = [[] for _ in runs]
    for _ in range(rounds):
        for i, run in enumerate(runs):
            figures[i].append(run())
    return [Figure.mean(f) for f in figures]


def lua(name, method, body, token=None, content_type="application/json"):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(f"wrk.method = {json.dumps(method)}\n")
        if body is not None:
            f.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
        f.write(f'wrk.headers["Content-Type"] = "{content_type}"\n')
        if token:
            f.write(f'wrk.headers["X-Auth-Token"] = {json.dumps(token)}\n')
    return path


def lua_bodies(name, method, bodies, token=None, content_type="application/json"):
    """A wrk script that sends the JSON `bodies` in turn, each wrk thread
    from its own place in the list."""
    path = lua(name, method, None, token, content_type)
    with open(path, "a") as f:
        f.write("local bodies = {" + ",\n".join(json.dumps(json.dumps(b)) for b in bodies) + "}\n")
        f.write("local threads = 0\n"
                "function setup(thread) thread:set(\"first\", threads * 7919); threads = threads + 1 end\n"
                "function init(args) i = first or 0 end\n"
                "function request()\n"
                "  i = i % #bodies + 1\n"
                "  return wrk.format(nil, nil, nil, bodies[i])\n"
                "end\n")
    return path


def post_script(name, body_bytes, content_type, headers=None):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\n')
        f.write(f"wrk.body = {lua_string(body_bytes)}\n")
        f.write(f'wrk.headers["Content-Type"] = "{content_type}"\n')
        for k, v in (headers or {}).items():
            f.write(f'wrk.headers["{k}"] = "{v}"\n')
    return path


def lua_string(data):
    # Every byte as a three-digit decimal escape: binary-safe in Lua.
    return '"' + "".join(f"\\{b:03d}" for b in data) + '"'


def report(name, measured, target, ok):
    results.append((name, measured, target, ok))
    print(f"  {'PASS' if ok else 'MISS'}  {name}: {measured}  (target {target})")


def summary():
    print("\n== summary")
    for name, measured, target, ok in results:
        print(f"  {'PASS' if ok else 'MISS'}  {name}: {measured} (target {target})")
    return 0 if all(ok for *_, ok in results) else 1


def rss_peak_kib(pid):
    return _status_kib(pid, "VmHWM:")


def rss_now_kib(pid):
    return _status_kib(pid, "VmRSS:")


def _status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def wait_http(url, body=None, method="GET"):
    for _ in range(200):
        try:
            data = json.dumps(body).encode() if body is not None else None
            urllib.request.urlopen(urllib.request.Request(url, data=data, method=method), timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


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
    wait_http(f"http://127.0.0.1:{port}/1k.html")
    return proc, port


# cfssl's certificate database (certdb) as its SQLite migration creates it;
# Debian's cfssl 1.2 writes these eight columns.
CFSSL_CERTDB_SCHEMA = """
CREATE TABLE certificates (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL,
  ca_label blob, status blob NOT NULL, reason int, expiry timestamp, revoked_at timestamp, pem blob NOT NULL,
  PRIMARY KEY(serial_number, authority_key_identifier));
CREATE TABLE ocsp_responses (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL,
  body blob NOT NULL, expiry timestamp, PRIMARY KEY(serial_number, authority_key_identifier));
"""


def start_cfssl(name, keyspec, responder=False, certdb=False):
    """`cfssl serve` with a fresh root CA (keyspec: openssl req -newkey
    arguments). Logs only errors, so that it pays nothing per request for
    logging: the comparison stays generous to it. With `certdb` it stores
    every certificate it signs in its SQLite certificate database (WAL,
    synchronous=FULL: each one on disk before the answer, as OpenCCM's).
    Returns (process, base URL of its API, CA certificate and key paths,
    certdb path or None)."""
    ca_key, ca = os.path.join(WORK, f"cf-{name}-key.pem"), os.path.join(WORK, f"cf-{name}.pem")
    sh("openssl", "req", "-x509", "-newkey", *keyspec, "-nodes", "-keyout", ca_key, "-out", ca, "-days", "365",
       "-subj", f"/CN=cfssl bench {name} CA", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature")
    port = free_port()
    args = ["cfssl", "serve", "-address", "127.0.0.1", "-port", str(port), "-ca", ca, "-ca-key", ca_key,
            "-loglevel", "4"]
    if responder:
        args += ["-responder", ca, "-responder-key", ca_key]
    db = None
    if certdb:
        db = os.path.join(WORK, f"cf-{name}-certs.db")
        with sqlite3.connect(db) as conn:
            conn.executescript(CFSSL_CERTDB_SCHEMA)
        config = os.path.join(WORK, f"cf-{name}-db.json")
        with open(config, "w") as f:
            json.dump({"driver": "sqlite3", "data_source":
                       f"file:{db}?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000"}, f)
        args += ["-db-config", config]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1/cfssl"
    wait_http(f"{base}/info", {}, "POST")
    return proc, base, ca, ca_key, db


def certdb_rows(db):
    """How many certificates cfssl stored in its certdb `db`."""
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM certificates").fetchone()[0]


def cpu_seconds(pids):
    """{pid: user and system CPU seconds used so far (every thread)} of the
    processes `pids` that still exist."""
    used = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def with_children(pid):
    """`pid` and its child processes (a PostgreSQL postmaster's backends)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return pids


def cpu_per_request(measure, *groups):
    """Runs `measure` (a wrk run) and returns its Figure and, for each group
    of processes (a function returning their pids), the CPU time in µs per
    request that the group spent meanwhile."""
    before = [cpu_seconds(group()) for group in groups]
    started = time.monotonic()
    figure = measure()
    elapsed = time.monotonic() - started
    # Listed again after the run: a process started meanwhile (a backend for
    # a new pooled connection) counts whole; one gone meanwhile is lost.
    after = [cpu_seconds(group()) for group in groups]
    used = [sum(t - b.get(pid, 0.0) for pid, t in a.items()) for a, b in zip(after, before)]
    return (figure, *(u / (figure.rps * elapsed) * 1e6 for u in used))


def start_postgres():
    """A throwaway PostgreSQL cluster on loopback, durable as in production
    (fsync and synchronous_commit on). Returns (stop function, URL)."""
    initdb = sorted(
        (os.path.join("/usr/lib/postgresql", v, "bin", "initdb") for v in os.listdir("/usr/lib/postgresql")),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p)])[-1]
    bindir = os.path.dirname(initdb)
    root = os.geteuid() == 0
    data = tempfile.mkdtemp(prefix="openccm-bench-pg-")
    as_pg = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(as_pg + [initdb, "-D", data, "-A", "trust", "-U", "openccm", "-E", "UTF8"], check=True,
                   capture_output=True)
    subprocess.run(as_pg + [os.path.join(bindir, "pg_ctl"), "-D", data, "-l", os.path.join(data, "log"), "-w",
                            "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {data} -c max_connections=200 "
                                  "-c shared_buffers=512MB -c synchronous_commit=on -c fsync=on", "start"],
                   check=True, capture_output=True)

    def stop():
        subprocess.run(as_pg + [os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)

    return stop, f"postgres://openccm@127.0.0.1:{port}/postgres", data


class OpenCcm:
    """One `openccm serve` process. `database_url` None is the embedded
    SQLite store in `data`; servers sharing a PostgreSQL database share
    `master_key`."""

    def __init__(self, data=None, database_url=None, master_key=None, binary=None, extra=()):
        self.data = data or os.path.join(WORK, f"data-{free_port()}")
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        log = open(os.path.join(WORK, f"openccm-{port}.log"), "w")
        binary = binary or BINARY
        # Metrics on, as in production, where the binary has them (older
        # builds measured for comparison do not).
        metrics = ["--metrics-listen", "127.0.0.1:0"] if "--metrics-listen" in sh(binary, "serve", "--help") else []
        # The cloud's default quota (100000 certificates) is less than a fast run issues.
        args = [binary, "serve", "--listen", f"127.0.0.1:{port}", *metrics, "--data-dir", self.data,
                "--certificate-quota", "100000000", *extra]
        if database_url:
            args += ["--database-url", database_url]
        if master_key:
            args += ["--master-key-file", master_key]
        started = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
        for line in self.proc.stdout:
            if line.startswith("openccm listening on"):
                break
        else:
            raise RuntimeError(f"openccm did not start; see {log.name}")
        self.startup_seconds = time.monotonic() - started
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def credentials(self, data=None):
        creds = {}
        with open(os.path.join(data or self.data, "credentials.toml")) as f:
            for line in f:
                m = re.match(r'(\w+) = "(.*)"', line)
                if m:
                    creds[m.group(1)] = m.group(2)
        return creds

    def token(self, creds=None):
        creds = creds or self.credentials()
        headers, _ = request("POST", f"{self.base}/v3/auth/tokens", {"auth": {"identity": {
            "methods": ["password"], "password": {"user": {
                "name": creds["user_name"], "password": creds["password"],
                "domain": {"name": creds["domain_name"]}}}}}})
        return headers["X-Subject-Token"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=60)


def dn(cn):
    return {"common_name": cn, "country": "CN", "state": "Guangdong", "locality": "Shenzhen",
            "organization": "Bench", "organizational_unit": "IT"}


def csr_pems(names):
    """CSRs of one fresh EC P-256 key, one per common name, PEM."""
    key = os.path.join(WORK, "many.key")
    sh("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
    return [subprocess.run(["openssl", "req", "-new", "-key", key, "-subj", f"/CN={cn}"],
                           check=True, capture_output=True, text=True).stdout for cn in names]


def csr_pem(alg, cn="bench.example.com"):
    """A fresh key's CSR (EC256, RSA2048 or SM2), PEM."""
    key, csr = os.path.join(WORK, f"{alg}.key"), os.path.join(WORK, f"{alg}.csr")
    if alg == "SM2":
        sh("openssl", "genpkey", "-algorithm", "SM2", "-out", key)
        sh("openssl", "req", "-new", "-key", key, "-sm3", "-sigopt", "distid:1234567812345678",
           "-subj", f"/CN={cn}", "-out", csr)
    else:
        spec = ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if alg == "EC256" else ["rsa:2048"]
        sh("openssl", "req", "-new", "-nodes", "-newkey", *spec, "-keyout", key, "-subj", f"/CN={cn}", "-out", csr)
    with open(csr) as f:
        return f.read()


def root_ca(base, token, alg, hash_, name):
    _, body = request("POST", f"{base}/v1/private-certificate-authorities", {
        "type": "ROOT", "key_algorithm": alg, "signature_algorithm": hash_,
        "distinguished_name": dn(name), "validity": {"type": "YEAR", "value": 10}}, token)
    return json.loads(body)["ca_id"]
