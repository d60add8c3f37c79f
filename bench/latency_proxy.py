#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that adds a round-trip time, for bench/run.

    latency_proxy.py [--rtt-ms MS] UPSTREAM_PORT [UPSTREAM_PORT...]

prints {"UPSTREAM_PORT": LISTEN_PORT, ...} as one JSON line on stdout once
it listens, then reads commands on stdin, one per line:

    rtt MS      use MS for connections accepted from now on  -> "ok"
    stats       -> {"accepted": {"UPSTREAM_PORT": N, ...}, "open": N}

Each connection is modelled on a path with a one-way delay of RTT/2 in
each direction (Python asyncio protocols, standard library only):

  * TCP handshake: the client's connect() returns at once (the proxy's
    kernel accepts), so the handshake is simulated: the proxy connects to
    the server at accept + 1.5 RTT (when the client's ACK would arrive
    there), and data the client sends is delivered no earlier than
    accept + 1 RTT (when its connect() would have returned) + RTT/2.  A
    server that speaks first (SMTP, plain IMAP) is heard at 2 RTT, an
    implicit-TLS ServerHello arrives at 2 RTT: as on a real path.
  * every chunk read from one side is written to the other RTT/2 after it
    arrived (loop.call_at, ~1 ms timer precision); order is kept, and a
    half-close (EOF) or close travels in its place.
"""

import argparse
import asyncio
import json
import sys


class Direction:
    """Delivers what one side sent to the other side's transport, each
    piece `delay` seconds after it arrived and not before `not_before`."""

    def __init__(self, loop, delay, not_before):
        self.loop = loop
        self.delay = delay
        self.not_before = not_before
        self.last_due = 0.0
        self.transport = None   # the receiving side, once connected
        self.waiting = []       # actions due before it was connected

    def schedule(self, action):
        due = max(self.loop.time(), self.not_before) + self.delay
        # Strictly increasing: timers with equal times may run in any order.
        due = max(due, self.last_due + 1e-6)
        self.last_due = due
        self.loop.call_at(due, self._run, action)

    def _run(self, action):
        if self.transport is None:
            self.waiting.append(action)
        else:
            self._apply(action)

    def _apply(self, action):
        kind, data = action
        t = self.transport
        if t.is_closing():
            return
        try:
            if kind == "data":
                t.write(data)
            elif kind == "eof":
                if t.can_write_eof():
                    t.write_eof()
            else:
                t.close()
        except OSError:
            t.close()

    def connected(self, transport):
        self.transport = transport
        for action in self.waiting:
            self._apply(action)
        self.waiting = []


class Side(asyncio.Protocol):
    """One of a connection's two TCP sockets; what it receives goes out
    through `out`."""

    def __init__(self, out, on_made=None, on_lost=None):
        self.out = out
        self.on_made = on_made
        self.on_lost = on_lost
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        if self.on_made:
            self.on_made(transport)

    def data_received(self, data):
        self.out.schedule(("data", data))

    def eof_received(self):
        self.out.schedule(("eof", None))
        return True  # keep the other half open

    def connection_lost(self, exc):
        self.out.schedule(("close", None))
        if self.on_lost:
            self.on_lost()


class Proxy:
    def __init__(self, rtt_ms):
        self.rtt = rtt_ms / 1000.0
        self.accepted = {}
        self.open = 0

    def client_side(self, upstream_port):
        """A protocol factory for connections accepted for @upstream_port."""
        loop = asyncio.get_running_loop()

        def factory():
            rtt = self.rtt
            t0 = loop.time()
            key = str(upstream_port)
            self.accepted[key] = self.accepted.get(key, 0) + 1
            self.open += 1
            to_server = Direction(loop, rtt / 2, t0 + rtt)
            to_client = Direction(loop, rtt / 2, 0.0)
            client = Side(to_server, on_made=to_client.connected, on_lost=self._closed)

            async def connect():
                try:
                    transport, _ = await loop.create_connection(
                        lambda: Side(to_client, on_made=to_server.connected), "127.0.0.1", upstream_port
                    )
                except OSError:
                    if client.transport is not None:
                        client.transport.close()

            loop.call_at(t0 + 1.5 * rtt, lambda: asyncio.ensure_future(connect()))
            return client

        return factory

    def _closed(self):
        self.open -= 1


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    parser.add_argument("upstream", type=int, nargs="+")
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    proxy = Proxy(args.rtt_ms)
    ports = {}
    for up in args.upstream:
        server = await loop.create_server(proxy.client_side(up), "127.0.0.1", 0, backlog=512)
        ports[str(up)] = server.sockets[0].getsockname()[1]
    print(json.dumps(ports), flush=True)

    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while True:
        line = await stdin.readline()
        if not line:
            return
        words = line.decode().split()
        if words[:1] == ["rtt"] and len(words) == 2:
            proxy.rtt = float(words[1]) / 1000.0
            print("ok", flush=True)
        elif words == ["stats"]:
            print(json.dumps({"accepted": proxy.accepted, "open": proxy.open}), flush=True)
        else:
            print("error", flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
