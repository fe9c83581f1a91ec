"""Async client for a Stacks node's RPC (``/v2/*``) and the Hiro API subset (``/extended/*``).

Works against a stacks-node, the Hiro API, or the BitHedge devnet (which also serves ``/devnet/*``).
Requests retry with exponential backoff on connection errors, timeouts, HTTP 429 (honouring
``Retry-After``) and 5xx. An API key goes to the API base only, as ``x-api-key``, and is replaced by
``(api key)`` in any response text an error carries. Mempool rejections become typed exceptions named
after the node's reason::

    async with StacksClient("http://127.0.0.1:20443") as node:
        try:
            txid = await node.broadcast(tx)
        except BadNonce as exc:
            print(exc.expected, exc.actual)
"""

from __future__ import annotations

import asyncio
import json as _json
import random
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

__all__ = [
    "Account",
    "BadFunctionArgument",
    "BadNonce",
    "BadTransactionVersion",
    "ConflictingNonceInMempool",
    "ContractAlreadyExists",
    "Deserialization",
    "FeeTooLow",
    "HttpError",
    "NoSuchContract",
    "NoSuchPublicFunction",
    "NotEnoughFunds",
    "NotFound",
    "ReadOnlyCallFailed",
    "RpcError",
    "SignatureValidation",
    "StacksClient",
    "TooMuchChaining",
    "TransactionRejected",
]


class RpcError(Exception):
    """Any failure talking to the node or API."""


class HttpError(RpcError):
    def __init__(self, status: int, url: str, body: Any) -> None:
        super().__init__(f"HTTP {status} from {url}: {str(body)[:300]}")
        self.status = status
        self.url = url
        self.body = body


class NotFound(HttpError):
    """404: no such block, transaction or contract (orphaned blocks are 404 in the Hiro API too)."""


class ReadOnlyCallFailed(RpcError):
    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class TransactionRejected(RpcError):
    """``POST /v2/transactions`` answered 400 ``transaction rejected``; subclasses per ``reason``."""

    reason = "Unknown"

    def __init__(self, reason: str, reason_data: Any = None, txid: str | None = None, body: Any = None) -> None:
        super().__init__(f"{reason}: {reason_data}" if reason_data else reason)
        self.reason = reason
        self.reason_data = reason_data if reason_data is not None else {}
        self.txid = txid
        self.body = body


class BadNonce(TransactionRejected):
    @property
    def expected(self) -> int | None:
        return self.reason_data.get("expected")

    @property
    def actual(self) -> int | None:
        return self.reason_data.get("actual")


class NotEnoughFunds(TransactionRejected):
    @property
    def expected(self) -> int | None:
        v = self.reason_data.get("expected")
        return int(v, 16) if isinstance(v, str) else v

    @property
    def actual(self) -> int | None:
        v = self.reason_data.get("actual")
        return int(v, 16) if isinstance(v, str) else v


class FeeTooLow(TransactionRejected):
    @property
    def expected(self) -> int | None:
        return self.reason_data.get("expected")


class ConflictingNonceInMempool(TransactionRejected):
    pass


class TooMuchChaining(TransactionRejected):
    pass


class SignatureValidation(TransactionRejected):
    pass


class NoSuchContract(TransactionRejected):
    pass


class NoSuchPublicFunction(TransactionRejected):
    pass


class BadFunctionArgument(TransactionRejected):
    pass


class ContractAlreadyExists(TransactionRejected):
    pass


class Deserialization(TransactionRejected):
    pass


class BadTransactionVersion(TransactionRejected):
    pass


_REJECTIONS: dict[str, type[TransactionRejected]] = {
    cls.__name__: cls
    for cls in (
        BadNonce, NotEnoughFunds, FeeTooLow, ConflictingNonceInMempool, TooMuchChaining, SignatureValidation,
        NoSuchContract, NoSuchPublicFunction, BadFunctionArgument, ContractAlreadyExists, Deserialization,
        BadTransactionVersion,
    )
}


def rejection_from(body: Any) -> TransactionRejected:
    """The typed exception for a node's rejection JSON."""
    if not isinstance(body, dict):
        return TransactionRejected("Unknown", {"message": str(body)[:500]})
    reason = str(body.get("reason") or "Unknown")
    cls = _REJECTIONS.get(reason, TransactionRejected)
    txid = body.get("txid")
    return cls(reason, body.get("reason_data"), txid.removeprefix("0x") if isinstance(txid, str) else None, body)


@dataclass(frozen=True)
class Account:
    balance: int
    locked: int
    unlock_height: int
    nonce: int


def _hex(value: Any) -> str:
    """0x-hex of bytes, a hex string, or anything with ``serialize()`` (transactions, Clarity values)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return value if value.startswith("0x") else "0x" + value
    ser = getattr(value, "serialize", None)
    if ser is not None:
        return _hex(ser())
    from stacks import clarity

    return "0x" + clarity.encode(value).hex()


def _raw(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return _raw(value.serialize())


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (the delta-seconds form; an HTTP date is ignored)."""
    return float(value) if value and value.replace(".", "", 1).isdigit() else None


class StacksClient:
    """One base URL (node RPC; the devnet also serves the Hiro subset). ``api_url`` overrides the
    base for ``/extended/*`` when node and API are different hosts; ``api_key`` is sent to it."""

    def __init__(
        self,
        base_url: str,
        *,
        api_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 15.0,
        retries: int = 6,
        backoff: float = 0.1,
        max_backoff: float = 10.0,
        headers: dict[str, str] | None = None,
        api_key: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_url = (api_url or base_url).rstrip("/")
        self._session = session
        self._own_session = session is None
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.headers = headers or {}
        self._api_key = api_key
        self._api_headers = {"x-api-key": api_key} if api_key else None

    async def __aenter__(self) -> StacksClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout, headers=self.headers, connector=aiohttp.TCPConnector(limit=64)
            )
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    # ---- transport --------------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        params: dict[str, Any] | None = None,
        base: str | None = None,
        headers: dict[str, str] | None = None,
        ok: Iterable[int] = (200,),
        retry: bool = True,
    ) -> tuple[int, Any]:
        """One request with retries; returns (status, parsed JSON or text) for statuses in ``ok`` or 4xx."""
        url = (base or self.base_url) + path
        ok = set(ok)
        attempt = 0
        delay = self.backoff
        while True:
            attempt += 1
            try:
                async with self.session.request(
                    method, url, json=json, data=data, params=params, headers=headers
                ) as resp:
                    text = await resp.text()
                    if self._api_key and self._api_key in text:  # an API that echoes the key keeps it out of errors
                        text = text.replace(self._api_key, "(api key)")
                    ctype = resp.headers.get("content-type", "")
                    body: Any = text
                    if "json" in ctype and text:
                        try:
                            body = _json.loads(text)
                        except ValueError:
                            body = text
                    if resp.status in ok:
                        return resp.status, body
                    if resp.status == 429 or resp.status >= 500:
                        if not retry or attempt > self.retries:
                            raise HttpError(resp.status, url, body)
                        wait = _retry_after(resp.headers.get("retry-after")) or delay
                        await asyncio.sleep(min(wait, self.max_backoff) + random.random() * 0.05)
                        delay = min(delay * 2, self.max_backoff)
                        continue
                    return resp.status, body
            except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                if not retry or attempt > self.retries:
                    raise RpcError(f"{method} {url}: {exc!r}") from exc
                await asyncio.sleep(delay + random.random() * 0.05)
                delay = min(delay * 2, self.max_backoff)

    async def _get(self, path: str, *, params: dict | None = None, api: bool = False, allow_404: bool = False,
                   retry: bool = True) -> Any:
        status, body = await self.request("GET", path, params=params, base=self.api_url if api else None,
                                          headers=self._api_headers if api else None, retry=retry)
        if status == 200:
            return body
        if status == 404:
            if allow_404:
                return None
            raise NotFound(status, path, body)
        raise HttpError(status, path, body)

    async def _post_json(self, path: str, payload: Any) -> Any:
        status, body = await self.request("POST", path, json=payload)
        if status != 200:
            raise (NotFound if status == 404 else HttpError)(status, path, body)
        return body

    # ---- node RPC -------------------------------------------------------------------------------------
    async def info(self, *, retry: bool = True) -> dict:
        return await self._get("/v2/info", retry=retry)

    async def account(self, principal: str) -> Account:
        b = await self._get(f"/v2/accounts/{principal}", params={"proof": "0"})
        return Account(
            balance=int(b["balance"], 16), locked=int(b.get("locked", "0x0"), 16),
            unlock_height=int(b.get("unlock_height", 0)), nonce=int(b["nonce"]),
        )

    async def broadcast(self, tx: Any) -> str:
        """Submit a signed transaction (bytes, hex or an object with ``serialize()``); returns the txid
        (hex, no 0x) or raises a :class:`TransactionRejected` subclass."""
        status, body = await self.request(
            "POST", "/v2/transactions", data=_raw(tx), headers={"content-type": "application/octet-stream"}
        )
        if status == 200:
            return str(body).strip().strip('"').removeprefix("0x")
        if status == 400:
            raise rejection_from(body)
        raise HttpError(status, "/v2/transactions", body)

    async def fee_estimate(self, transaction_payload: bytes | str, estimated_len: int | None = None) -> dict:
        payload: dict[str, Any] = {"transaction_payload": _hex(transaction_payload)}
        if estimated_len is not None:
            payload["estimated_len"] = estimated_len
        return await self._post_json("/v2/fees/transaction", payload)

    async def call_read_raw(self, contract_id: str, function: str, args: Sequence[Any] = (), sender: str | None = None) -> str:
        """Read-only call; returns the result's Clarity hex or raises :class:`ReadOnlyCallFailed`."""
        addr, name = contract_id.split(".", 1)
        body = await self._post_json(
            f"/v2/contracts/call-read/{addr}/{name}/{function}",
            {"sender": sender or addr, "arguments": [_hex(a) for a in args]},
        )
        if not body.get("okay"):
            raise ReadOnlyCallFailed(str(body.get("cause")))
        return body["result"]

    async def call_read(self, contract_id: str, function: str, args: Sequence[Any] = (), sender: str | None = None):
        """Read-only call decoded into a ``stacks.clarity`` value."""
        from stacks import clarity

        return clarity.decode(bytes.fromhex((await self.call_read_raw(contract_id, function, args, sender))[2:]))

    async def contract_interface(self, contract_id: str) -> dict:
        addr, name = contract_id.split(".", 1)
        return await self._get(f"/v2/contracts/interface/{addr}/{name}")

    # ---- Hiro API subset -------------------------------------------------------------------------------
    async def status(self) -> dict:
        return await self._get("/extended/v1/status", api=True)

    async def blocks(self, *, limit: int = 30, offset: int = 0) -> dict:
        return await self._get("/extended/v2/blocks", params={"limit": limit, "offset": offset}, api=True)

    async def block(self, height_or_hash: int | str) -> dict | None:
        """A canonical block by height, hash or index block hash; None when unknown (or orphaned)."""
        return await self._get(f"/extended/v2/blocks/{height_or_hash}", api=True, allow_404=True)

    async def block_transactions(self, height_or_hash: int | str, *, limit: int = 50, offset: int = 0) -> dict:
        return await self._get(
            f"/extended/v2/blocks/{height_or_hash}/transactions", params={"limit": limit, "offset": offset}, api=True
        )

    async def iter_block_transactions(self, height_or_hash: int | str, *, page: int = 50) -> AsyncIterator[dict]:
        offset = 0
        while True:
            body = await self.block_transactions(height_or_hash, limit=page, offset=offset)
            for tx in body["results"]:
                yield tx
            offset += len(body["results"])
            if not body["results"] or offset >= body["total"]:
                return

    async def transaction(self, txid: str, *, event_limit: int = 100, event_offset: int = 0) -> dict | None:
        txid = txid if txid.startswith("0x") else "0x" + txid
        return await self._get(
            f"/extended/v1/tx/{txid}", params={"event_limit": event_limit, "event_offset": event_offset},
            api=True, allow_404=True,
        )

    async def transaction_with_all_events(self, txid: str) -> dict | None:
        """The transaction with every event (pages ``event_offset`` through ``event_count``)."""
        tx = await self.transaction(txid)
        if tx is None or tx.get("tx_status") == "pending":
            return tx
        events = list(tx.get("events", []))
        while len(events) < tx.get("event_count", 0):
            more = await self.transaction(txid, event_offset=len(events))
            if not more or not more.get("events"):
                break
            events.extend(more["events"])
        tx["events"] = events
        return tx

    async def raw_transaction(self, txid: str) -> str:
        """The serialized transaction, 0x-hex."""
        txid = txid if txid.startswith("0x") else "0x" + txid
        return (await self._get(f"/extended/v1/tx/{txid}/raw", api=True))["raw_tx"]

    async def burn_block(self, height_or_hash: int | str) -> dict:
        return await self._get(f"/extended/v2/burn-blocks/{height_or_hash}", api=True)

    async def nonces(self, principal: str) -> dict:
        return await self._get(f"/extended/v1/address/{principal}/nonces", api=True)

    # ---- devnet controls (BitHedge devnet only) ------------------------------------------------------
    async def mine(self, blocks: int = 1) -> dict:
        return await self._post_json("/devnet/mine", {"blocks": blocks})

    async def fork(self, depth: int) -> dict:
        return await self._post_json("/devnet/fork", {"depth": depth})

    async def devnet_accounts(self) -> list[dict]:
        return (await self._get("/devnet/accounts"))["accounts"]

    async def devnet_status(self) -> dict:
        return await self._get("/devnet/status")

    async def faucet(self, address: str, amount: int = 1_000_000_000) -> str:
        return (await self._post_json("/devnet/faucet", {"address": address, "amount": str(amount)}))["txid"]
