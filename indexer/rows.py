"""The raw tables' rows, one named tuple per table: each type's ``_fields`` are the table's columns, in order.

Parsers build these rows and COPY takes them as they are (a ``NamedTuple`` is a tuple to asyncpg). The rows
of the hot path, transactions and events (hundreds per block), are plain tuples in their type's field order:
an instance of the named type costs a Python-level constructor per row and pickles about 3x slower on its way
back from a decoder process (``EventRow._make(row)`` names one when needed). The column lists the writer sends
are derived from the types, never typed again, and ``tests/indexer/test_schema.py`` compares them with
``information_schema.columns`` after the migrations and checks each builder's output field by field, so a new
column cannot shift a tuple silently.

The writer appends :data:`WRITER_COLUMNS` to block, transaction, event and burn-block rows: the canonical
flag is decided by fork choice and the request id is known only when the batch is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

#: Appended by the writer to the rows of blocks, transactions, events and burn blocks.
WRITER_COLUMNS = ("canonical", "request_id")


class RequestRow(NamedTuple):
    """``raw.observer_requests`` after ``id`` (a sequence value the writer draws)."""

    received_at: datetime
    path: str
    payload: str | None  # jsonb text
    body: bytes | None  # the exact bytes, when ``payload`` cannot hold them
    body_size: int
    body_truncated: bool
    source: str
    source_id: int | None
    outcome: str


class BlockRow(NamedTuple):
    """``raw.blocks`` without the writer's columns (and ``indexed_at``, a default)."""

    index_block_hash: bytes
    block_hash: bytes
    block_height: int
    parent_index_block_hash: bytes
    parent_block_hash: bytes | None
    parent_microblock_hash: bytes | None
    parent_microblock_sequence: int | None
    burn_block_height: int | None
    burn_block_hash: bytes | None
    burn_block_time: int | None
    parent_burn_block_hash: bytes | None
    parent_burn_block_height: int | None
    parent_burn_block_time: int | None
    miner_txid: bytes | None
    consensus_hash: bytes | None
    block_time: int | None
    tenure_height: int
    nakamoto: bool
    signer_signature_hash: bytes | None
    signer_bitvec: str | None
    signer_signature: str | None  # jsonb text
    miner_signature: bytes | None
    cycle_number: int | None
    reward_set: str | None
    matured_miner_rewards: str | None
    anchored_cost: str | None
    confirmed_microblocks_cost: str | None
    tx_count: int
    event_count: int


class TxRow(NamedTuple):
    """``raw.transactions`` without the writer's columns."""

    index_block_hash: bytes
    txid: bytes
    tx_index: int
    block_height: int
    tx_type: str | None
    burnchain_op_type: str | None
    sender: str | None
    sponsor: str | None
    sponsored: bool | None
    nonce: int | None
    fee: int | None
    sponsor_nonce: int | None
    sponsor_fee: int | None
    chain_id: int | None
    anchor_mode: int | None
    post_condition_mode: int | None
    contract_id: str | None
    function_name: str | None
    function_args: str | None  # jsonb text
    recipient: str | None
    amount: int | None
    status: str
    result: str | None  # jsonb text
    raw_result: bytes | None
    raw_tx: bytes
    vm_error: str | None
    contract_interface: str | None
    burnchain_op: str | None
    execution_cost: str | None
    microblock_sequence: int | None
    microblock_hash: bytes | None
    microblock_parent_hash: bytes | None
    decode_error: str | None


class EventRow(NamedTuple):
    """``raw.events`` without the writer's columns."""

    index_block_hash: bytes
    event_index: int
    txid: bytes
    tx_index: int | None
    block_height: int
    event_type: str
    contract_identifier: str | None
    topic: str | None
    asset_identifier: str | None
    sender: str | None
    recipient: str | None
    amount: int | None
    memo: str | None
    value: str | None  # jsonb text
    raw_value: bytes | None
    committed: bool
    decode_error: str | None


class BurnBlockRow(NamedTuple):
    """``raw.burn_blocks`` without the writer's columns (and ``indexed_at``)."""

    burn_block_hash: bytes
    burn_block_height: int
    parent_burn_block_hash: bytes | None
    consensus_hash: bytes | None
    burn_amount: int | None
    reward_recipients: str | None
    reward_slot_holders: str | None
    pox_transactions: str | None


class TipRow(NamedTuple):
    """``raw.chain_tip``'s chain columns: the canonical Stacks tip and burn tip after the last commit."""

    index_block_hash: bytes | None = None
    block_hash: bytes | None = None
    block_height: int | None = None
    block_time: int | None = None
    burn_block_hash: bytes | None = None
    burn_block_height: int | None = None
    burn_block_time: int | None = None


class DeadLetterRow(NamedTuple):
    """``raw.dead_letters`` after ``id`` (and ``created_at``)."""

    request_id: int
    path: str
    reason: str
    detail: str


class ReorgRow(NamedTuple):
    """``raw.reorgs`` after ``id`` and ``detected_at``."""

    depth: int
    restored: int
    fork_height: int
    old_tip: bytes | None
    new_tip: bytes
    request_id: int


REQUEST_COLUMNS = ("id",) + RequestRow._fields
BLOCK_COLUMNS = BlockRow._fields + WRITER_COLUMNS
TX_COLUMNS = TxRow._fields + WRITER_COLUMNS
EVENT_COLUMNS = EventRow._fields + WRITER_COLUMNS
BURN_COLUMNS = BurnBlockRow._fields + WRITER_COLUMNS
DEAD_LETTER_COLUMNS = DeadLetterRow._fields
REORG_COLUMNS = ReorgRow._fields
