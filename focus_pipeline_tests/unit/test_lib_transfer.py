"""The copy engine's arithmetic and buffers, without a server (the copies themselves:
integration/test_lib_transfer.py)."""

from focus_pipeline.lib.transfer import MIB, S3_MAX_PARTS, _PartBuffers, choose_part_size


def test_part_size_grows_so_parts_never_exceed_10000() -> None:
    assert choose_part_size(5 * 10**9, 8 * MIB) == 8 * MIB
    assert choose_part_size(100 * 2**30, 8 * MIB) == 11 * MIB
    assert -(-100 * 2**30 // choose_part_size(100 * 2**30, 8 * MIB)) <= S3_MAX_PARTS
    assert choose_part_size(10, 1) == 5 * MIB


def test_part_buffers_are_reused_and_only_a_window_of_them_is_kept() -> None:
    """Fresh part buffers cost page faults each time and pile up in glibc's arenas."""
    buffers = _PartBuffers(keep=2)
    a, b, c = buffers.get(5 * MIB), buffers.get(5 * MIB), buffers.get(5 * MIB)
    for buf in (a, b, c):
        buffers.put(buf)
    reused = [buffers.get(5 * MIB), buffers.get(5 * MIB)]
    assert [id(x) for x in reused] == [id(b), id(a)]
    fresh = buffers.get(5 * MIB)  # c was dropped: only two are kept
    assert all(fresh is not x for x in (a, b, c))
    assert len(buffers.get(MIB)) == MIB  # a short last part never takes a full buffer
