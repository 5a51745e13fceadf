"""Cost of one application submission in-process (no HTTP), sequential, on a fresh SQLite file.

    .venv/bin/python bench/submit_inprocess.py [--n 1000] [--profile]

Imports N eligible orders (bench/http/setup_data.py), creates the bench customer, then calls
``services.aftersales.submit_application`` N times, one order each, and reports submissions/s
and ms per submission; ``--profile`` adds the cProfile top functions (own and cumulative).
This is the single-writer ceiling that the HTTP submit phase cannot exceed on SQLite.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kefu-submit-"))
    os.environ["KEFU_DATABASE_URL"] = f"sqlite:///{tmp}/kefu.db"
    py, kefu = str(ROOT / ".venv/bin/python"), str(ROOT / ".venv/bin/kefu")
    setup = str(ROOT / "bench/http/setup_data.py")
    subprocess.run([kefu, "db", "upgrade"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([py, setup, "orders", str(a.n), str(tmp / "o.jsonl")], check=True)
    subprocess.run([kefu, "import", "orders", str(tmp / "o.jsonl")], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    subprocess.run([py, setup, "account"], check=True, stdout=subprocess.DEVNULL)

    from kefu.adapters.policy_files import load_policy_book
    from kefu.config import get_settings
    from kefu.domain.aftersales.model import Reason, RequestType
    from kefu.domain.clock import system_clock
    from kefu.services import accounts
    from kefu.services import aftersales as svc
    from kefu.services.uow import Database

    sys.path.insert(0, str(ROOT / "bench/http"))
    from setup_data import PASSWORD, USERNAME

    db = Database.from_url(get_settings().database_url)
    book = load_policy_book((ROOT / "policies").resolve())
    actor = accounts.authenticate(db, USERNAME, PASSWORD)
    reqs = [svc.ApplicationRequest(order_id=f"B{i:010d}", line=0, type=RequestType.RETURN,
                                   reason=Reason.NO_REASON) for i in range(a.n)]
    half = a.n // 2
    pr = cProfile.Profile() if a.profile else None
    t0 = time.perf_counter()
    for r in reqs[:half]:
        svc.submit_application(db, actor, r, book, system_clock)
    t1 = time.perf_counter()
    if pr:
        pr.enable()
    for r in reqs[half:]:
        svc.submit_application(db, actor, r, book, system_clock)
    if pr:
        pr.disable()
    rate = half / (t1 - t0)
    print(f"submit_application: {rate:,.0f}/s sequential, {1000 / rate:.2f} ms each "
          f"(first {half} unprofiled; load average {os.getloadavg()[0]:.1f})")
    if pr:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(pr, stream=out).sort_stats(key).print_stats(25)
            print(f"--- cProfile by {key} ---")
            print("\n".join(out.getvalue().splitlines()[4:]))
    for p in tmp.iterdir():
        p.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
