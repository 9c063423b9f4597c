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


class RawWsServer:
    """A WebSocket server written by hand, for peers that misbehave on
    purpose: it listens on loopback (port, or a free one) and runs
    serve(conn, nth) on a thread for the nth connection, then closes it;
    the helpers below are the protocol pieces a subclass takes or leaves
    out."""

    GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, port=None):
        import socket
        self.port = port or free_port()
        self.url = f"ws://127.0.0.1:{self.port}/ws/"
        self.connects = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connects += 1
            threading.Thread(target=self._run, args=(conn, self.connects),
                             daemon=True).start()

    def _run(self, conn, nth):
        conn.settimeout(0.5)
        try:
            self.serve(conn, nth)
        except OSError:
            pass
        finally:
            conn.close()

    def serve(self, conn, nth):
        raise NotImplementedError

    def read_head(self, conn):
        """The client's request head and the bytes after it, or None."""
        data = b""
        while b"\r\n\r\n" not in data and self.running:
            try:
                chunk = conn.recv(4096)
            except OSError:
                continue
            if not chunk:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        return head, rest

    @classmethod
    def accept_for(cls, head):
        import base64
        import hashlib
        key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")
               if l.lower().startswith(b"sec-websocket-key:")][0]
        return base64.b64encode(hashlib.sha1(key + cls.GUID).digest())

    @staticmethod
    def send_101(conn, accept):
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket"
                     b"\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
                     accept + b"\r\n\r\n")

    @staticmethod
    def frame_bytes(opcode, payload, fin=True):
        """A server frame (unmasked)."""
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + n.to_bytes(2, "big")
        else:
            head += bytes([127]) + n.to_bytes(8, "big")
        return head + payload

    def read_frames(self, conn, buf, on_frame):
        """Calls on_frame(opcode, payload) for each masked client frame,
        until the client closes or the server stops."""
        while self.running:
            while len(buf) >= 2:
                n = buf[1] & 0x7F
                ext = 2 if n == 126 else 8 if n == 127 else 0
                head = 2 + ext + 4
                if len(buf) < head:
                    break
                if ext:
                    n = int.from_bytes(buf[2:2 + ext], "big")
                if len(buf) < head + n:
                    break
                mask = buf[head - 4:head]
                on_frame(buf[0] & 0x0F, bytes(
                    b ^ mask[i % 4] for i, b in enumerate(buf[head:head + n])))
                buf = buf[head + n:]
            try:
                chunk = conn.recv(65536)
            except OSError:
                continue
            if not chunk:
                return
            buf += chunk

    def shutdown(self):
        """Stops listening (the port is free again when this returns)."""
        self.running = False
        self._thread.join(2)
        self.sock.close()
