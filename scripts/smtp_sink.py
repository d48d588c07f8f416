#!/usr/bin/env python3
"""SMTP sink for local runs and tests.

Listens on 127.0.0.1, accepts every message (AUTH PLAIN/LOGIN with any
credentials is accepted too, over plain text) and stores each one as its own
file in --dir:

    <UTC timestamp>-<counter>.eml    e.g. 20240131T120000.123456Z-000001.eml

Names sort by arrival. A file is written under a temporary dot-name and then
renamed, so a reader never sees a partial message. The stored message starts
with envelope headers, followed by the message exactly as received:

    X-Envelope-From: sender@example.com
    X-Envelope-To: a@example.com, b@example.com
    X-Auth-User: user            (only when the client authenticated)

Runs until it receives SIGINT or SIGTERM.
"""

import argparse
import asyncio
import datetime
import itertools
import logging
import os
import signal

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def accept_any_login(server, session, envelope, mechanism, auth_data):
    user = None
    if isinstance(auth_data, LoginPassword):
        user = auth_data.login.decode("utf-8", "replace")
    return AuthResult(success=True, auth_data=user)


class MailDirHandler:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        stamp = datetime.datetime.now(datetime.timezone.utc)
        name = f"{stamp:%Y%m%dT%H%M%S.%f}Z-{next(self.counter):06d}.eml"

        headers = [
            f"X-Envelope-From: {envelope.mail_from or ''}",
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}",
        ]
        if session.authenticated and session.auth_data:
            headers.append(f"X-Auth-User: {session.auth_data}")
        prefix = ("\r\n".join(headers) + "\r\n").encode("utf-8")

        tmp_path = os.path.join(self.directory, f".{name}.tmp")
        with open(tmp_path, "wb") as f:
            f.write(prefix)
            f.write(envelope.original_content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, os.path.join(self.directory, name))
        print(f"stored {name} from={envelope.mail_from} to={envelope.rcpt_tos}",
              flush=True)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True, help="where messages are stored")
    args = parser.parse_args()

    # aiosmtpd warns about its own use of a deprecated attribute on every AUTH.
    logging.getLogger("mail.log").addFilter(
        lambda record: "login_data is deprecated" not in record.getMessage()
    )
    os.makedirs(args.dir, exist_ok=True)
    handler = MailDirHandler(args.dir)

    def factory():
        return SMTP(
            handler,
            hostname="localhost",
            auth_require_tls=False,
            authenticator=accept_any_login,
            enable_SMTPUTF8=True,
        )

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=args.port)
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, loop.stop)
    print(f"SMTP sink on 127.0.0.1:{args.port}, storing mail in {args.dir}",
          flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.close()


if __name__ == "__main__":
    main()
