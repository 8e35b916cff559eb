"""Ids and the random values drawn from the block-buffered CSPRNG (`tessera.core.ids`)."""

from __future__ import annotations

import os
import threading
import time
import uuid

from tessera.core import ids
from tessera.core.ids import looks_like_id, new_id, random_digits, random_hex, random_uuid

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _reference_encoding(millis: int, random: bytes) -> str:
    """The ULID layout spelled out bit by bit: 48 bits of milliseconds, 80 random, 5 bits a character."""
    bits = format(millis, "048b") + "".join(format(byte, "08b") for byte in random)
    bits = "00" + bits  # 130 bits: 26 characters
    return "".join(_CROCKFORD[int(bits[i : i + 5], 2)] for i in range(0, 130, 5))


def test_an_id_is_the_prefix_and_26_lower_case_crockford_characters() -> None:
    made = new_id("pay")
    assert made.startswith("pay_") and len(made) == 30
    assert set(made[4:]) <= set(_CROCKFORD)
    assert looks_like_id(made, "pay") and not looks_like_id(made, "op")


def test_the_encoding_is_the_ulid_layout_for_edge_and_random_values() -> None:
    cases = [
        (0, bytes(10)),
        (2**48 - 1, b"\xff" * 10),
        (1, b"\x00" * 9 + b"\x01"),
        (int(time.time() * 1000), os.urandom(10)),
        *[(int.from_bytes(os.urandom(6), "big"), os.urandom(10)) for _ in range(200)],
    ]
    for millis, random in cases:
        assert ids._encode(millis, random) == _reference_encoding(millis, random)


def test_ids_made_in_a_later_millisecond_sort_after_earlier_ones() -> None:
    earlier = new_id("pay")
    time.sleep(0.002)
    later = new_id("pay")
    assert earlier < later
    assert ids._encode(1000, b"\xff" * 10) < ids._encode(1001, bytes(10))


def test_ids_do_not_repeat_across_blocks_of_drawn_bytes() -> None:
    made = {new_id("op") for _ in range(50_000)}  # some 120 blocks of 4,096 bytes
    assert len(made) == 50_000


def test_threads_drawing_at_once_never_get_the_same_bytes() -> None:
    drawn: list[list[str]] = [[] for _ in range(8)]

    def draw(into: list[str]) -> None:
        into.extend(random_hex(10) for _ in range(5_000))

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for values in drawn for value in values]
    assert len(set(every)) == len(every) == 40_000


def test_a_forked_child_does_not_hand_out_the_bytes_its_parent_hands_out_next() -> None:
    random_hex(1)  # the parent now holds a block with unused bytes, which the child inherits
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next draw, then leave without running the test runner's exit
        os.close(read)
        os.write(write, random_hex(16).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    parent = random_hex(16)
    assert len(child) == len(parent) == 32
    assert child != parent


def test_random_uuids_are_version_4_and_distinct() -> None:
    made = [random_uuid() for _ in range(10_000)]
    assert len(set(made)) == len(made)
    for value in made[:100]:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value


def test_random_digits_have_the_length_asked_for_and_use_every_digit() -> None:
    for n in (1, 6, 12, 15):
        values = [random_digits(n) for _ in range(2_000)]
        assert all(len(v) == n and v.isdigit() for v in values)
    leading = {random_digits(6)[0] for _ in range(2_000)}
    assert leading == set("0123456789")  # zero-padded, not drawn from 100,000 upwards


def test_a_draw_larger_than_a_block_is_served_whole() -> None:
    assert len(ids._random.take(10_000)) == 10_000
