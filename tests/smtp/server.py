"""A real SMTP server for the expiry-notice tests
(crates/openccm-server/tests/it/notify.rs): aiosmtpd on 127.0.0.1, STARTTLS
required, AUTH (PLAIN/LOGIN) required after it, every accepted message
written to a directory as JSON (envelope, whether TLS was on, the
authenticated user, the message).

Usage: server.py PORT CERT KEY OUTDIR USER PASSWORD
Prints "ready" once it accepts connections; runs until killed.
"""

import json
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "user": session.auth_data.login.decode()
            if session.authenticated and isinstance(session.auth_data, LoginPassword)
            else None,
            "data": envelope.content.decode("utf-8", "replace"),
        }
        path = os.path.join(self.outdir, "%04d.json" % self.count)
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    port, cert, key, outdir, user, password = sys.argv[1:7]

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(
        Handler(outdir),
        hostname="127.0.0.1",
        port=int(port),
        server_hostname="localhost",
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
