"""``kakaclo contract --replay`` reads at most its cap of a recording, plus one byte: a
larger file, a pipe or ``/dev/zero`` is refused in one line (no traceback, exit 2)."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest

from kakaclo_proxy.har import MAX_RECORDING, NotARecording, read_har
from kakaclo_proxy.replay import EXIT_USAGE, replay

EMPTY = '{"log": {"entries": []}}'


def test_a_recording_one_byte_over_the_cap_is_refused_and_one_at_it_is_read(
    tmp_path: Path,
) -> None:
    har = tmp_path / "run.har"
    har.write_text(EMPTY)
    assert read_har(har, max_bytes=len(EMPTY)) == (None, [])
    with pytest.raises(NotARecording) as refused:
        read_har(har, max_bytes=len(EMPTY) - 1)
    assert str(refused.value) == (
        f"{har} is larger than {len(EMPTY) - 1} bytes, the most a recording may hold"
    )


def test_a_pipe_is_read_up_to_the_cap_plus_one_byte_only(tmp_path: Path) -> None:
    fifo = tmp_path / "run.har"
    os.mkfifo(fifo)
    written: list[int] = []

    def write() -> None:
        with contextlib.suppress(BrokenPipeError), fifo.open("wb") as pipe:
            for _ in range(64):  # 64 MiB offered; the reader leaves after 1 KiB and a byte
                written.append(pipe.write(b" " * (1024 * 1024)))
                pipe.flush()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with pytest.raises(NotARecording, match="is larger than 1024 bytes"):
        read_har(fifo, max_bytes=1024)
    writer.join(30)
    assert not writer.is_alive()
    assert len(written) < 64  # the writer was cut off: the reader never read it all


def test_dev_zero_is_one_usage_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zero = Path("/dev/zero")
    assert replay(zero, report=tmp_path / "replay", quiet=True) == EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [
        f"kakaclo contract --replay: {zero} is larger than {MAX_RECORDING // 2**20} MiB, "
        "the most a recording may hold"
    ]
