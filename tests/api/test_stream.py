"""``/v1/stream``: events driven by the transforms' NOTIFY, Last-Event-ID resume, tokens for EventSource, and a
client that never reads is disconnected without holding anyone else up."""

from __future__ import annotations

import asyncio
import json
import socket

import asyncpg

from api import keys
from api.state import STATE
from api.stream import Event
from transforms.daemon import ANALYTICS_CHANNEL


class Sse:
    """A reading SSE client: frames as dicts (id, event, data)."""

    def __init__(self, response) -> None:
        self.response = response

    async def next(self, kind: str | None = None) -> dict:
        while True:
            frame: dict = {}
            while (line := (await self.response.content.readline()).decode().rstrip("\n")) != "":
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(": ")
                frame[name] = value
            if frame and (kind is None or frame.get("event") == kind):
                return frame

    async def close(self) -> None:
        self.response.close()


async def _connect(client, **headers) -> Sse:
    r = await client.get("/v1/stream", headers={"x-api-key": client.key, **headers})
    assert r.status == 200 and r.content_type == "text/event-stream"
    assert (await r.content.readline()) == b": connected\n"
    return Sse(r)


def _hub(client):
    return client.server.app[STATE].extras["stream"]


async def _notify(url: str, height: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_notify($1, $2)", ANALYTICS_CHANNEL,
                           json.dumps({"stacks_height": height, "burn_height": None, "duration_s": 0.1}))
    finally:
        await conn.close()


async def test_a_build_notification_streams_its_events_then_block_and_freshness(analytics_client,
                                                                                 analytics_db) -> None:
    client = await analytics_client()
    hub = _hub(client)
    await asyncio.wait_for(hub.listening.wait(), 30)
    tip = hub.height
    sse = await _connect(client)
    try:
        await _notify(analytics_db.url, tip - 5)  # the chain went back (a reorg): clients must refetch
        assert json.loads((await sse.next("reset"))["data"])["reason"] == "reorg"
        await sse.next("freshness")
        await _notify(analytics_db.url, tip)  # and forward again: the events of the 5 heights, in id order
        frames = []
        while (f := await sse.next())["event"] in ("policy", "price"):
            frames.append(f)
        assert f["event"] == "block" and json.loads(f["data"])["stacks_height"] == tip
        assert json.loads((await sse.next())["data"])["marts_stacks_height"] == tip  # freshness
        ids = [tuple(map(int, x["id"].split("-"))) for x in frames]
        assert frames and ids == sorted(ids) and tip - 4 <= ids[0][0] and ids[-1][0] <= tip
        assert {"price"} <= {x["event"] for x in frames}
        assert all(isinstance(json.loads(x["data"]).get("stacks_height"), int) for x in frames)
    finally:
        await sse.close()


async def test_last_event_id_resumes_right_after_the_event(analytics_client) -> None:
    client = await analytics_client()
    tip = _hub(client).height
    start = f"{tip - 10}-0"
    sse = await _connect(client, **{"Last-Event-ID": start})
    first = [await sse.next() for _ in range(6)]
    await sse.close()
    resumed = await _connect(client, **{"Last-Event-ID": first[2]["id"]})
    again = [await resumed.next() for _ in range(3)]
    await resumed.close()
    assert again == first[3:]
    bad = await client.get("/v1/stream", headers={"x-api-key": client.key, "Last-Event-ID": "x"})
    assert bad.status == 400


async def test_event_source_token_instead_of_a_header_and_revocation(analytics_client, analytics_db) -> None:
    client = await analytics_client()
    assert (await client.get("/v1/stream")).status == 401
    r = await client.post("/v1/stream/token", headers={"x-api-key": client.key})
    assert r.status == 201
    token = (await r.json())["token"]
    ok = await client.get(f"/v1/stream?token={token}")
    assert ok.status == 200
    ok.close()
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (await client.get(f"/v1/stream?token={tampered}")).status == 401
    conn = await asyncpg.connect(analytics_db.url)
    try:
        await keys.revoke(conn, keys.split(client.key)[0])
    finally:
        await conn.close()
    assert (await client.get(f"/v1/stream?token={token}")).status == 401


async def test_a_client_that_never_reads_is_dropped_and_the_others_get_everything(analytics_client) -> None:
    client = await analytics_client(api_stream_queue=8)
    hub = _hub(client)
    reader = await _connect(client)
    # a raw socket with a tiny receive buffer that sends its request and never reads a byte
    stuck = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", client.port))
    stuck.sendall(f"GET /v1/stream HTTP/1.1\r\nHost: x\r\nx-api-key: {client.key}\r\n\r\n".encode())
    while len(hub.clients) < 2:
        await asyncio.sleep(0.01)
    blob = "x" * 65536
    dropped = client.server.app[STATE].metrics.stream_dropped
    sent = 0
    try:
        while len(hub.clients) == 2 and sent < 1000:  # in lockstep with the reader, which never falls behind
            sent += 1
            hub.publish([Event("price", json.dumps({"n": sent, "pad": blob}), (10**9, sent))])
            assert json.loads((await reader.next("price"))["data"])["n"] == sent
        assert len(hub.clients) == 1 and dropped._value.get() == 1, sent
        # the reader goes on receiving after the other one was dropped
        hub.publish([Event("price", json.dumps({"n": sent + 1}), (10**9, sent + 1))])
        assert json.loads((await reader.next("price"))["data"])["n"] == sent + 1
        # and the stuck socket was closed by the server: draining it ends in EOF or a reset
        stuck.setblocking(False)
        loop = asyncio.get_running_loop()
        try:
            while await asyncio.wait_for(loop.sock_recv(stuck, 1 << 20), 30):
                pass
        except ConnectionResetError:
            pass
    finally:
        stuck.close()
        await reader.close()
