#!/usr/bin/env python3
"""A real SMTP server for the tests (aiosmtpd), listening on 127.0.0.1 on a free port.

Usage: smtp_sink.py DIRECTORY

Prints the port on the first line of standard output, then stores every message it
accepts as DIRECTORY/NNNN.json: {"mail_from", "rcpt_tos", "subject", "text", "html"},
with headers and bodies decoded (RFC 2047, quoted-printable, base64), so the tests read
what a person would see. It exits when its standard input closes (the test ended, however
it ended) or after ten minutes at most.
"""

import asyncio
import email
import email.policy
import json
import os
import sys
import threading

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)

        def body(kind):
            part = message.get_body(preferencelist=(kind,))
            return part.get_content() if part is not None else None

        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "text": body("plain"),
            "html": body("html"),
        }
        self.count += 1
        path = os.path.join(self.directory, f"{self.count:04}.json")
        # Write then rename, so a reader never sees half a message.
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


def exit_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)


async def main():
    directory = sys.argv[1]
    handler = Sink(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink.test"), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    await asyncio.sleep(600)


if __name__ == "__main__":
    asyncio.run(main())
