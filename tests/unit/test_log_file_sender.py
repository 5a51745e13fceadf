"""The default notification sender: one JSON line per message in the outbox log file, appended
by every app process at once without losing or splitting a line; the directory is made."""

from __future__ import annotations

import json
import threading

from kefu.adapters.notify.senders import LogFileSender
from kefu.services.ports import OutgoingMessage


def _message(n: int) -> OutgoingMessage:
    return OutgoingMessage(n, "inapp", "C1", f"工单 T{n:07d} 已受理", "您的咨询已受理。\n请耐心等待", "ticket_opened")


def test_each_message_is_one_json_line_in_a_directory_made_on_first_use(tmp_path):
    path = tmp_path / "not" / "yet" / "outbox.log"
    LogFileSender(path).send(_message(1))
    LogFileSender(path).send(_message(2))          # a second sender (another process) appends
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": n, "channel": "inapp", "to": "C1", "subject": f"工单 T{n:07d} 已受理",
         "body": "您的咨询已受理。\n请耐心等待", "event": "ticket_opened"} for n in (1, 2)]
    assert "已受理" in lines[0]                    # UTF-8 text, not \\u escapes


def test_senders_writing_at_once_keep_every_line_whole(tmp_path):
    path = tmp_path / "outbox.log"
    senders = [LogFileSender(path) for _ in range(4)]

    def send(k: int) -> None:
        for n in range(250):
            senders[k].send(_message(k * 1000 + n))

    threads = [threading.Thread(target=send, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = sorted(json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines())
    assert ids == sorted(k * 1000 + n for k in range(4) for n in range(250))


def test_a_rotated_file_is_followed_once_the_descriptor_is_renewed(tmp_path, monkeypatch):
    path = tmp_path / "outbox.log"
    sender = LogFileSender(path)
    sender.send(_message(1))
    path.rename(tmp_path / "outbox.log.1")                   # logrotate moves the file away
    sender.send(_message(2))                                 # within the renewal time: the moved file
    monkeypatch.setattr(LogFileSender, "REOPEN_AFTER_S", 0.0)
    sender.send(_message(3))                                 # renewed: a new file at the path
    old = [json.loads(line)["id"] for line in (tmp_path / "outbox.log.1").read_text(encoding="utf-8").splitlines()]
    new = [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert (old, new) == ([1, 2], [3])
    sender.close()
    sender.send(_message(4))                                 # a closed sender opens the path again
    assert [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()] == [3, 4]
