"""A WebSocket server on loopback for the tracker's tests, run by the real
`websockets` library (Debian's python3-websockets) on its own thread: it
records what clients send, sends to them on request, and can be stopped and
started again on the same port to test reconnects."""
import asyncio
import json
import threading
import time

import websockets

from support import free_port, wait_for


class WsServer:
    def __init__(self, port=None, feeder=None, ssl=None):
        """feeder(ws, path), a coroutine, runs for each connection (e.g. to
        stream frames to it) beside the recording of what it sends. With
        ssl (an SSLContext) the server speaks wss://."""
        self.port = port or free_port()
        self.ssl = ssl
        self.url = f"{'wss' if ssl else 'ws'}://127.0.0.1:{self.port}/ws/"
        self.feeder = feeder
        self.received = []      # texts, in order
        self.by_path = {}       # path -> texts, in order
        self.connects = 0
        self._clients = set()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        daemon=True)
        self._thread.start()
        self.start()

    async def _handler(self, ws, path=None):
        with self._lock:
            self.connects += 1
        self._clients.add(ws)
        path = path or getattr(ws, "path", "/")
        feed = asyncio.ensure_future(self.feeder(ws, path)) if self.feeder \
            else None
        try:
            async for msg in ws:
                with self._lock:
                    self.received.append(msg)
                    self.by_path.setdefault(path, []).append(msg)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._clients.discard(ws)
            if feed:
                feed.cancel()

    def _call(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self):
        async def go():
            self._server = await websockets.serve(
                self._handler, "127.0.0.1", self.port, max_size=2 ** 24,
                ping_interval=None, ssl=self.ssl)
        self._call(go())

    def stop(self):
        """Closes the listener and every connection, as a crashed server."""
        async def go():
            if self._server:
                self._server.close()
                for ws in list(self._clients):
                    await ws.close()
                await self._server.wait_closed()
                self._server = None
        self._call(go())

    def shutdown(self):
        try:
            self.stop()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def clients(self):
        return len(self._clients)

    def wait_client(self, n=1, timeout=15):
        wait_for(lambda: len(self._clients) >= n, timeout,
                 what=f"{n} client(s) on port {self.port}")

    def send(self, text):
        """Sends text to every connected client."""
        async def go():
            for ws in list(self._clients):
                await ws.send(text)
        self._call(go())

    def messages(self):
        with self._lock:
            return list(self.received)

    def json(self):
        return [json.loads(m) for m in self.messages()]

    def sessions(self):
        return [m for m in self.json() if "session" in m]

    def replies(self, kind=None):
        return [m for m in self.json() if "session" not in m and
                (kind is None or m.get("type") == kind)]

    def wait(self, predicate, timeout=15, what="message"):
        """Waits until predicate(list of parsed messages) is true."""
        wait_for(lambda: predicate(self.json()), timeout, what=what)
        return self.json()
