"""Data for the service-desk benchmark (bench/desk/run.sh): people, tokens, and up to a million tickets.

    .venv/bin/python bench/desk/setup_data.py people  DB_FILE   # prints shell assignments (tokens)
    .venv/bin/python bench/desk/setup_data.py tickets DB_FILE N # tops the ticket count up to N
    .venv/bin/python bench/desk/setup_data.py sweep   DB_FILE   # runs the SLA sweep until it is idle
    .venv/bin/python bench/desk/setup_data.py count   DB_FILE   # "<tickets> <open> <open in general>"
    .venv/bin/python bench/desk/setup_data.py plan    DB_FILE   # EXPLAIN QUERY PLAN + timing of the hot SQL
    .venv/bin/python bench/desk/setup_data.py trace   DB_FILE [N] # time each SQL statement of the two use cases

DB_FILE is a SQLite file already migrated with ``kefu db upgrade``; the server must not run
while ``people`` or ``tickets`` writes.

``people``: CUSTOMERS customers (C0000001…, 85 % regular, 12 % PLUS, 3 % enterprise, 60 % with an
e-mail address), each with a customer account (one shared unusable password hash); AGENTS agents
(KF0001…, offline, capacity 20, spread over the six default queues with the queues' skills) and
SUPERVISORS supervisors (KF9001…); and the three accounts the load uses, made through
``accounts.create_user`` / ``accounts.issue_api_token``:

* ``bench_customer`` — customer ``CBENCH`` (regular, phone and e-mail): opens the tickets;
* ``bench_agent`` (KF8001) — works the ``general`` queue, online, capacity 1,000,000 (so every
  ticket opened in ``general`` is assigned to it): reads the queue;
* ``bench_supervisor`` (KF8000) — supervisor of ``bench_agent``.

It prints ``CUSTOMER_TOKEN=… AGENT_TOKEN=… SUPERVISOR_TOKEN=…`` for ``eval``.

``tickets``: adds tickets until there are N, fast: the rows are generated in Python into a
temporary table (``executemany``, 100,000 a transaction) and copied with ``INSERT … SELECT``
into tickets, messages, history and the full-text table (dates and numbers formatted by SQLite;
the jieba tokens computed once per distinct text; the full-text index merged into one segment at
the end, FTS5's ``optimize``); the SLA clocks of open tickets are computed
with the domain's own functions (``targets_for``, ``compute_due``, ``warn_at``). A load at least as
big as what is there drops the secondary indexes of the three big tables and builds them again
from their own ``CREATE INDEX`` text at the end; the journal is DELETE during the load and WAL
again after it. ``ANALYZE`` is not run (kefu never runs it; ``ANALYZE=1`` does). What a ticket looks like is
what ``services.tickets.open_ticket`` writes (same columns and value formats, numbers
``T<yymmdd><id:07d>`` with the Asia/Shanghai date, queue by the same routing, D5 priority),
plus what the later steps would have left on it:

* mix: 8 % complaints; channels web_chat 40 %, app 35 %, phone 12 %, email 8 %, wechat 3 %,
  weibo 2 %; consultations by category product 45 %, logistics 18 %, aftersales 12 %,
  payment 5 %, membership 3 %, service_attitude 2 %, other 15 % (complaints: logistics 30 %,
  service_attitude 25 %, product 20 %, aftersales 15 %, payment 10 %); 5 % of the complaints
  name an agent (D9: assigned to that agent's supervisor, escalated);
* status: 5 % open (new 1.5 %, processing 1.7 %, waiting_customer 1.8 %, and for complaints
  confirmed), 2 % resolved within the last 7 days (awaiting the customer, not yet auto-closed),
  1 % merged, the rest closed; closed tickets spread over DAYS days (default 180), open ones over
  the last 10 days; ids follow the creation time within one load;
* per ticket: the customer's first message (e-mail ones with a Message-ID), the ``open`` history
  row and the two full-text rows (``ticket_fts``: jieba tokens of the subject and of the message,
  as ``index_text`` writes them); first_response_at / confirmed_at / resolved_at / closed_at /
  paused_at as the steps set them (chat first responses mostly within the minute); 3 % of closed
  tickets were reopened once; open tickets other than ``new`` are assigned to a loaded agent of
  their queue (40 % of ``new`` ones too);
* the SLA clocks (``ticket_sla``) of every open ticket, with met / warned / breached stamped as
  the services and the idempotent sweep would have left them at load time (a breached ticket is
  escalated); clocks of tickets waiting for the customer are paused (not stamped after the pause).

Not loaded (not read by the measured paths): replies after the first message, history rows after
``open``, outbox notifications, orders/sellers on tickets, clocks of finished tickets.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import time
from bisect import bisect
from datetime import UTC, datetime, timedelta
from itertools import accumulate, islice

CUSTOMERS = int(os.environ.get("CUSTOMERS", "20000"))
AGENTS = int(os.environ.get("AGENTS", "200"))
SUPERVISORS = int(os.environ.get("SUPERVISORS", "10"))
DAYS = int(os.environ.get("DAYS", "180"))
OPEN_DAYS = float(os.environ.get("OPEN_DAYS", "10"))
SEED = int(os.environ.get("SEED", "4"))
CHUNK = 100_000

BENCH_CUSTOMER = "CBENCH"
BENCH_PASSWORD = "bench-password-123"

# the default queues of migration 0004 (ids 1..6)
QUEUES = {"general": 1, "logistics": 2, "aftersales": 3, "payment": 4, "complaints": 5, "vip": 6}
QUEUE_CODE = {v: k for k, v in QUEUES.items()}
QUEUE_SKILL = {"aftersales": "aftersales", "complaints": "complaints"}
ROUTE = {"product": "general", "other": "general", "logistics": "logistics", "aftersales": "aftersales",
         "payment": "payment", "membership": "payment", "service_attitude": "complaints"}
AGENT_QUEUES = [("general", 0.35), ("logistics", 0.20), ("aftersales", 0.175), ("payment", 0.10),
                ("complaints", 0.10), ("vip", 0.075)]

CHANNELS = [("web_chat", 0.40), ("app", 0.35), ("phone", 0.12), ("email", 0.08), ("wechat", 0.03), ("weibo", 0.02)]
CONSULT_CATEGORIES = [("product", 0.45), ("logistics", 0.18), ("aftersales", 0.12), ("payment", 0.05),
                      ("membership", 0.03), ("service_attitude", 0.02), ("other", 0.15)]
COMPLAINT_CATEGORIES = [("logistics", 0.30), ("service_attitude", 0.25), ("product", 0.20), ("aftersales", 0.15),
                        ("payment", 0.10)]
COMPLAINT_SHARE = 0.08
#: status shares per kind (open 5 %, resolved 2 %, merged 1 %, closed the rest)
CONSULT_STATUS = [("new", 0.015), ("processing", 0.017), ("waiting_customer", 0.018), ("resolved", 0.02),
                  ("merged", 0.01), ("closed", 0.92)]
COMPLAINT_STATUS = [("new", 0.010), ("confirmed", 0.008), ("processing", 0.015), ("waiting_customer", 0.017),
                    ("resolved", 0.02), ("merged", 0.01), ("closed", 0.92)]
OPEN = ("new", "confirmed", "processing", "waiting_customer")
LEVELS = [("regular", 0.85), ("plus", 0.12), ("enterprise", 0.03)]

SUBJECTS = {
    "product": ["这款衣服尺码偏大还是偏小？", "商品有没有现货？", "手机支持5G吗？", "商品颜色和图片不一致",
                "请问保修期多久"],
    "logistics": ["快递三天没有更新", "包裹显示签收但没收到", "能不能改收货地址", "配送太慢了", "快递员态度差"],
    "aftersales": ["退货申请一直没审核", "换货寄回后没消息", "退款什么时候到账", "维修进度查询",
                   "赠品需要一起退吗"],
    "payment": ["重复扣款了", "优惠券用不了", "发票怎么开", "分期付款手续费", "余额支付失败"],
    "membership": ["PLUS会员权益咨询", "会员续费扣费问题", "积分没到账", "企业账号怎么开通", "会员等级没更新"],
    "service_attitude": ["客服答非所问", "客服态度恶劣", "承诺回电没有回", "客服挂断电话", "处理太拖拉"],
    "other": ["账号无法登录", "修改绑定手机号", "网站打不开", "其他问题咨询", "投诉建议"],
}
BODY = ("您好，{subject} 订单是上个月买的，麻烦尽快帮我处理一下，谢谢。"
        "如需补充材料请告诉我，我可以提供截图和聊天记录。")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def log(msg: str) -> None:
    print(f"[setup_data] {msg}", file=sys.stderr, flush=True)


def exact(n: int, shares: list[tuple[str, float]], rng: random.Random) -> list[str]:
    """``n`` labels in exactly these proportions (largest remainder), shuffled."""
    raw = [(k, n * s / sum(x for _, x in shares)) for k, s in shares]
    counts = {k: int(v) for k, v in raw}
    for k, _ in sorted(raw, key=lambda kv: kv[1] - int(kv[1]), reverse=True)[:n - sum(counts.values())]:
        counts[k] += 1
    out = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(out)
    return out


def picker(shares: list[tuple[str, float]], rng: random.Random):
    keys = [k for k, _ in shares]
    cum = list(accumulate(s for _, s in shares))
    total = cum[-1]
    return lambda: keys[bisect(cum, rng.random() * total)]


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def fmt(dt: datetime) -> str:
    """How SQLAlchemy stores a UTCDateTime on SQLite (naive UTC, six decimals)."""
    return f"{dt:%Y-%m-%d %H:%M:%S}.{dt.microsecond:06d}"


def ts_us(dt: datetime) -> int:
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


# ── people ─────────────────────────────────────────────────────────────────────────────────


def people(path: str) -> None:
    from kefu.domain.actors import Actor, Role
    from kefu.services import accounts
    from kefu.services.accounts import _hasher  # one real (unusable) hash for the loaded accounts
    from kefu.services.uow import Database

    rng = random.Random(SEED)
    now = datetime.now(UTC)
    created = fmt(now - timedelta(days=DAYS + 30))
    t0 = time.perf_counter()
    conn = connect(path)
    if conn.execute("SELECT count(*) FROM customers").fetchone()[0]:
        sys.exit("people: the database already has customers")
    level = picker(LEVELS, rng)
    customers = []
    for i in range(1, CUSTOMERS + 1):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        customers.append((f"C{i:07d}", name, f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}",
                          f"c{i}@example.com" if rng.random() < 0.6 else None, level(), created))
    customers.append((BENCH_CUSTOMER, "压测顾客", "13800000000", "bench@example.com", "regular", created))
    unusable = _hasher.hash(os.urandom(16).hex())
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO customers (id, name, phone, email, level, created_at) VALUES (?,?,?,?,?,?)",
                     customers)
    # users: supervisors 1001.., agents 2001.., customers 100001..
    users = []
    for s in range(1, SUPERVISORS + 1):
        users.append((1000 + s, f"sup{s:03d}", f"主管{s:03d}", "supervisor", unusable, None, f"KF{9000 + s}"))
    for a in range(1, AGENTS + 1):
        users.append((2000 + a, f"agent{a:04d}", f"客服{a:04d}", "agent", unusable, None, f"KF{a:04d}"))
    for i, c in enumerate(customers[:-1], start=1):
        users.append((100_000 + i, f"cust{i:07d}", c[1], "customer", unusable, c[0], None))
    conn.executemany("INSERT INTO users (id, username, display_name, role, password_hash, customer_id, seller_id, "
                     "employee_no, locale, is_active, created_at) VALUES (?,?,?,?,?,?,NULL,?,'zh',1,?)",
                     [(*u, created) for u in users])
    queue_of = exact(AGENTS, AGENT_QUEUES, rng)
    for s in range(1, SUPERVISORS + 1):
        conn.execute("INSERT INTO desk_agents (user_id, supervisor_id, capacity, skills, online, last_assigned_at, "
                     "updated_at) VALUES (?, NULL, 50, '[\"complaints\", \"aftersales\"]', 0, NULL, ?)",
                     (1000 + s, created))
        conn.execute("INSERT INTO desk_queue_members (queue_id, user_id) VALUES (?, ?)",
                     (QUEUES["complaints"], 1000 + s))
    for a in range(1, AGENTS + 1):
        code = queue_of[a - 1]
        skills = json.dumps([QUEUE_SKILL[code]] if code in QUEUE_SKILL else [])
        conn.execute("INSERT INTO desk_agents (user_id, supervisor_id, capacity, skills, online, last_assigned_at, "
                     "updated_at) VALUES (?, ?, 20, ?, 0, ?, ?)",
                     (2000 + a, 1000 + (a - 1) % SUPERVISORS + 1, skills, created, created))
        conn.execute("INSERT INTO desk_queue_members (queue_id, user_id) VALUES (?, ?)", (QUEUES[code], 2000 + a))
    conn.execute("COMMIT")
    conn.close()
    log(f"people: {len(customers)} customers and accounts, {AGENTS} agents, {SUPERVISORS} supervisors "
        f"in {time.perf_counter() - t0:.1f} s")

    db = Database.from_url(f"sqlite:///{path}")
    sup = accounts.create_user(db, username="bench_supervisor", password=BENCH_PASSWORD, role="supervisor",
                               display_name="压测主管", employee_no="KF8000")
    agent = accounts.create_user(db, username="bench_agent", password=BENCH_PASSWORD, role="agent",
                                 display_name="压测客服", employee_no="KF8001")
    cust = accounts.create_user(db, username="bench_customer", password=BENCH_PASSWORD, role="customer",
                                display_name="压测顾客", customer_id=BENCH_CUSTOMER)
    conn = connect(path)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO desk_agents (user_id, supervisor_id, capacity, skills, online, last_assigned_at, "
                 "updated_at) VALUES (?, NULL, 50, '[\"complaints\", \"aftersales\"]', 0, NULL, ?)",
                 (sup.id, fmt(now)))
    conn.execute("INSERT INTO desk_agents (user_id, supervisor_id, capacity, skills, online, last_assigned_at, "
                 "updated_at) VALUES (?, ?, 1000000, '[]', 1, NULL, ?)", (agent.id, sup.id, fmt(now)))
    conn.execute("INSERT INTO desk_queue_members (queue_id, user_id) VALUES (?, ?)", (QUEUES["general"], agent.id))
    conn.execute("COMMIT")
    conn.close()
    tokens = {
        "CUSTOMER_TOKEN": accounts.issue_api_token(db, Actor(cust.id, Role.CUSTOMER, customer_id=BENCH_CUSTOMER),
                                                   "bench"),
        "AGENT_TOKEN": accounts.issue_api_token(db, Actor(agent.id, Role.AGENT), "bench"),
        "SUPERVISOR_TOKEN": accounts.issue_api_token(db, Actor(sup.id, Role.SUPERVISOR), "bench"),
    }
    db.dispose()
    for k, v in tokens.items():
        print(f"{k}={v}")


# ── tickets ────────────────────────────────────────────────────────────────────────────────


def _shared_rules():
    from kefu.bootstrap import desk_rules
    from kefu.config import get_settings

    return desk_rules(get_settings().policy_dir)


def tickets(path: str, total: int) -> None:
    from kefu.domain.service.sla import compute_due, warn_at

    rules = _shared_rules()
    sla = rules.sla
    calendars = sla.calendars
    t_start = time.perf_counter()
    conn = connect(path)
    have, max_id = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM tickets").fetchone()
    n = total - have
    if n <= 0:
        log(f"tickets: already {have:,} (asked for {total:,}); nothing to do")
        return
    rng = random.Random(SEED * 1_000_003 + have)
    now = datetime.now(UTC)
    now_us = ts_us(now)
    hour, day = 3_600_000_000, 86_400_000_000

    # customers: (id, name, level, user id, email, phone)
    custs = conn.execute("SELECT c.id, c.name, c.level, u.id, c.email, c.phone FROM customers c "
                         "JOIN users u ON u.customer_id = c.id WHERE c.id != ? ORDER BY c.id",
                         (BENCH_CUSTOMER,)).fetchall()
    if not custs:
        sys.exit("tickets: run `people` first")
    agents_by_queue: dict[int, list[int]] = {}
    for queue_id, user_id in conn.execute(
            "SELECT m.queue_id, m.user_id FROM desk_queue_members m JOIN users u ON u.id = m.user_id "
            "WHERE u.username NOT LIKE 'bench_%' ORDER BY m.user_id"):
        agents_by_queue.setdefault(queue_id, []).append(user_id)
    supervisor_of = dict(conn.execute("SELECT user_id, supervisor_id FROM desk_agents"))
    employee_nos = [(uid, no) for uid, no in conn.execute(
        "SELECT id, employee_no FROM users WHERE role = 'agent' AND username NOT LIKE 'bench_%'")]

    # the mix: exact proportions, then shuffled
    n_complaint = round(n * COMPLAINT_SHARE)
    kinds = ["complaint"] * n_complaint + ["consultation"] * (n - n_complaint)
    statuses = exact(n_complaint, COMPLAINT_STATUS, rng) + exact(n - n_complaint, CONSULT_STATUS, rng)
    # categories exact within each (kind, status) stratum, so small loads have the same queue mix
    categories: list[str] = [""] * n
    strata: dict[tuple[str, str], list[int]] = {}
    for i in range(n):
        strata.setdefault((kinds[i], statuses[i]), []).append(i)
    for (kind, _), idx in strata.items():
        for i, cat in zip(idx, exact(len(idx), COMPLAINT_CATEGORIES if kind == "complaint" else CONSULT_CATEGORIES,
                                     rng), strict=True):
            categories[i] = cat
    channel = picker(CHANNELS, rng)

    # creation times: open tickets in the last OPEN_DAYS days, resolved in the last week, the rest
    # over DAYS days (skewed recent); sorted so ids follow time within this load
    rows = []
    for i in range(n):
        st = statuses[i]
        if st in OPEN:
            age = int(rng.random() ** 1.5 * OPEN_DAYS * day) + rng.randint(120_000_000, 600_000_000)
        elif st == "resolved":
            age = int(rng.random() * 6 * day) + rng.randint(2 * hour, day)
        else:
            age = int(rng.random() ** 0.8 * DAYS * day) + rng.randint(hour, 2 * day)
        rows.append((now_us - age, i))
    rows.sort()

    def between(a: int, b: int, lo_frac: float = 0.05, hi_frac: float = 0.9) -> int:
        return a + int((b - a) * (lo_frac + (hi_frac - lo_frac) * rng.random()))

    second = 1_000_000
    rand = rng.random
    prio = {(k, lv): rules.priority(_kind(k), lv) for k in ("complaint", "consultation") for lv, _ in LEVELS}
    n_custs = len(custs)

    def first_response_delay(ch: str) -> int:
        """Chat, app and phone: most within the minute (D2), some late; mail and social: hours."""
        if ch in ("web_chat", "app", "phone"):
            return int((5 + 50 * rand()) * second) if rand() < 0.8 else int((60 + 1740 * rand()) * second)
        return int((600 + 35400 * rand()) * second)

    clocks: list[tuple] = []
    counts: dict[str, int] = {}
    open_general = 0

    def make():
        """The generated rows, one tuple per ticket (columns of the temp table ``gen``)."""
        nonlocal open_general
        for seq, (created, i) in enumerate(rows):
            tid = max_id + 1 + seq
            kind, st, cat = kinds[i], statuses[i], categories[i]
            ch = channel()
            cid, cname, level, cuser, cemail, _ = custs[int(rand() * n_custs)]
            queue_code = "complaints" if kind == "complaint" else ROUTE[cat]
            queue_id = QUEUES[queue_code]
            priority = prio[kind, level]
            age = now_us - created
            named = None
            escalated = 0
            assignee = None
            if kind == "complaint" and rng.random() < 0.05:
                agent_id, named = employee_nos[int(rand() * len(employee_nos))]
                assignee = supervisor_of.get(agent_id)
                escalated = 1
            elif st != "new" or rng.random() < 0.4:
                pool = agents_by_queue.get(queue_id) or agents_by_queue[QUEUES["general"]]
                assignee = pool[int(rand() * len(pool))]
            first_resp = confirmed = resolved = closed = paused = None
            merged_into = None
            reopen = 0
            if st in ("new",):
                last = created
            elif st in OPEN:
                first_resp = min(created + first_response_delay(ch), between(created, now_us, 0.0, 0.5))
                if kind == "complaint":
                    confirmed = between(first_resp, now_us, 0.01, 0.25)
                last = between(max(first_resp, confirmed or 0), now_us, 0.1, 0.9)
                if st == "waiting_customer":
                    paused = last
            else:                                                     # resolved / closed / merged
                span = min(age, 4 * day)
                first_resp = min(created + first_response_delay(ch), created + span // 10)
                if kind == "complaint":
                    confirmed = first_resp + int(span * 0.1 * rng.random())
                if st == "merged":
                    closed = first_resp
                    merged_into = max(1, tid - 1 - int(rand() * 50)) if tid > 1 else None
                    last = first_resp
                else:
                    resolved = created + int(span * (0.2 + 0.6 * rng.random()))
                    if st == "resolved":
                        resolved = max(resolved, now_us - 6 * day)
                        last = resolved
                    else:
                        closed = resolved + int((now_us - resolved) * rng.random() * 0.3)
                        reopen = 1 if rng.random() < 0.03 else 0
                        escalated = escalated or reopen or (1 if rng.random() < 0.04 else 0)
                        last = closed
            if st in OPEN:
                # the clocks start_clocks would have started, stamped as meet_clocks and the sweep would have
                stop = paused if paused is not None else now_us
                started = from_us(created)
                met_of = {"first_response": first_resp, "confirm": confirmed,
                          "first_result": last if (kind == "complaint" and st in ("processing", "waiting_customer"))
                          else None}
                for metric, target in sla.targets_for(ch, kind, level, queue_code).items():
                    due = compute_due(started, target, calendars)
                    warn = warn_at(started, due, sla.warn_fraction, calendars[target.calendar])
                    met = met_of.get(metric.value)
                    end = met if met is not None else stop
                    due_us, warn_us = ts_us(due), ts_us(warn)
                    warned = fmt(from_us(warn_us + 1_000_000)) if warn_us < end else None
                    breached = fmt(from_us(due_us + 1_000_000)) if due_us < end else None
                    if breached:
                        escalated = 1
                    clocks.append((tid, metric.value, target.calendar.value, fmt(started), fmt(due), fmt(warn),
                                   fmt(from_us(met)) if met is not None else None, warned, breached))
            updated = max(last, closed or 0, resolved or 0)
            subject = SUBJECTS[cat][int(rand() * 5)]
            contact = cemail if ch == "email" else (f"o{cid}wx" if ch == "wechat" else
                                                     (f"wb{cid}" if ch == "weibo" else None))
            ext = f"<{tid}.{cid}@mail.example.com>" if ch == "email" else None
            version = 1 + (st != "new") + (confirmed is not None) + (resolved is not None) + (closed is not None)
            yield (tid, cid, contact, cname, ch, cat, kind, st, priority, level, subject, queue_id, assignee,
                   named, escalated, merged_into, reopen, created, updated, last, first_resp, confirmed,
                   resolved, closed, paused, version, cuser, ext, queue_code)
            counts[st] = counts.get(st, 0) + 1
            if st in OPEN and queue_id == QUEUES["general"]:
                open_general += 1

    conn.execute("PRAGMA journal_mode=DELETE")       # bulk load without a WAL copy of every page
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-524288")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("CREATE TEMP TABLE gen (id INTEGER PRIMARY KEY, cid, contact, cname, ch, cat, kind, st, "
                 "priority, level, subject, queue_id, assignee, named, escalated, merged_into, reopen, created, "
                 "updated, last, first_resp, confirmed, resolved, closed, paused, version, cuser, ext, "
                 "queue_code)")

    def d(col: str) -> str:          # µs since the epoch -> SQLAlchemy's SQLite datetime text
        return (f"(strftime('%Y-%m-%d %H:%M:%S', {col} / 1000000, 'unixepoch') "
                f"|| printf('.%06d', {col} % 1000000))")

    ticket_sql = (
        "INSERT INTO tickets (id, number, customer_id, contact, contact_name, order_id, application_id, seller_id, "
        "channel, category, kind, status, priority, customer_level, subject, queue_id, assignee_id, "
        "named_employee_no, escalated, merged_into_id, reopen_count, created_at, updated_at, last_message_at, "
        "first_response_at, confirmed_at, resolved_at, closed_at, paused_at, version) "
        "SELECT id, 'T' || substr(strftime('%Y%m%d', created / 1000000 + 28800, 'unixepoch'), 3) "
        "|| printf('%07d', id), "
        "cid, contact, cname, NULL, NULL, NULL, ch, cat, kind, st, priority, level, subject, queue_id, assignee, "
        f"named, escalated, merged_into, reopen, {d('created')}, {d('updated')}, {d('last')}, {d('first_resp')}, "
        f"{d('confirmed')}, {d('resolved')}, {d('closed')}, {d('paused')}, version FROM gen ORDER BY id")
    message_sql = (
        "INSERT INTO ticket_messages (ticket_id, author_user_id, author_role, author_name, visibility, body, "
        "channel, external_id, created_at) SELECT id, cuser, 'customer', cname, 'public', ?1 || subject || ?2, "
        f"ch, ext, "
        f"{d('created')} FROM gen ORDER BY id")
    event_sql = (
        "INSERT INTO ticket_events (ticket_id, at, actor_user_id, actor_role, actor_name, action, from_status, "
        f"to_status, note, data) SELECT id, {d('created')}, cuser, 'customer', cname, 'open', NULL, 'new', subject, "
        "'{\"queue\": \"' || queue_code || '\", \"channel\": \"' || ch || '\", \"priority\": ' || priority "
        "|| ', \"assignee\": ' || coalesce(assignee, 'null') || '}' FROM gen ORDER BY id")
    # a big load: drop the secondary indexes of the three big tables and build them again at the
    # end from their own CREATE INDEX text (same schema; faster than keeping them up to date row by row)
    rebuild = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('tickets', 'ticket_messages', 'ticket_events')").fetchall() if n >= max(have, 50_000) else []
    for name, _ in rebuild:
        conn.execute(f"DROP INDEX {name}")
    # the full-text rows open_ticket writes (index_text: subject, then body), tokenised once per text
    from kefu.adapters.search.tokens import tokens as search_tokens

    conn.execute("CREATE TEMP TABLE tok (subject TEXT PRIMARY KEY, subject_tokens TEXT, body_tokens TEXT)")
    head, tail = BODY.split("{subject}")
    conn.executemany("INSERT INTO tok VALUES (?, ?, ?)", [
        (subj, " ".join(search_tokens(subj)), " ".join(search_tokens(head + subj + tail)))
        for subjects in SUBJECTS.values() for subj in subjects])
    fts_sql = ("INSERT INTO ticket_fts (tokens, ticket_id) SELECT t.subject_tokens, g.id FROM gen g "
               "JOIN tok t ON t.subject = g.subject ORDER BY g.id; "
               "INSERT INTO ticket_fts (tokens, ticket_id) SELECT t.body_tokens, g.id FROM gen g "
               "JOIN tok t ON t.subject = g.subject ORDER BY g.id")
    t0 = time.perf_counter()
    t_gen = 0.0
    spent = {"tickets": 0.0, "ticket_messages": 0.0, "ticket_events": 0.0, "ticket_fts": 0.0}
    rows_iter = make()
    while True:
        g0 = time.perf_counter()
        part = list(islice(rows_iter, CHUNK))
        t_gen += time.perf_counter() - g0
        if not part:
            break
        conn.execute("BEGIN")
        conn.execute("DELETE FROM gen")
        conn.executemany(f"INSERT INTO gen VALUES ({','.join('?' * 29)})", part)
        for table, sql, args in (("tickets", ticket_sql, ()), ("ticket_messages", message_sql, (head, tail)),
                                 ("ticket_events", event_sql, ())):
            q0 = time.perf_counter()
            conn.execute(sql, args)
            spent[table] += time.perf_counter() - q0
        q0 = time.perf_counter()
        for sql in fts_sql.split("; "):
            conn.execute(sql)
        spent["ticket_fts"] += time.perf_counter() - q0
        conn.execute("COMMIT")
    r0 = time.perf_counter()
    for _, sql in rebuild:
        conn.execute(sql)
    spent["indexes"] = time.perf_counter() - r0
    # the load wrote the search index 100,000 rows a transaction, as segments FTS5 would go on
    # merging (up to ~0.5 s at a time) inside the first ticket transactions of a measurement;
    # merged into one, as after any bulk import
    o0 = time.perf_counter()
    conn.execute("INSERT INTO ticket_fts (ticket_fts) VALUES ('optimize')")
    spent["fts_optimize"] = time.perf_counter() - o0
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO ticket_sla (ticket_id, metric, calendar, started_at, due_at, warn_at, met_at, "
                     "warned_at, breached_at) VALUES (?,?,?,?,?,?,?,?,?)", clocks)
    conn.execute("COMMIT")
    t_ins = time.perf_counter()
    conn.execute("DROP TABLE gen")
    conn.execute("DROP TABLE tok")
    if os.environ.get("ANALYZE") == "1":             # kefu itself never runs ANALYZE: off by default
        conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    t_end = time.perf_counter()
    log(f"tickets: generated in {t_gen:.1f} s, inserted in {t_ins - t0 - t_gen:.1f} s "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in spent.items())}), back to WAL {t_end - t_ins:.1f} s")
    log(f"tickets: +{n:,} -> {total:,} ({', '.join(f'{k} {v:,}' for k, v in sorted(counts.items()))}; "
        f"{open_general:,} of the new open ones in general); total {t_end - t_start:.1f} s")
    print(json.dumps({"added": n, "total": total, "seconds": round(t_end - t_start, 1),
                      "generate_s": round(t_gen, 1), "insert_s": round(t_ins - t0 - t_gen, 1),
                      "finish_s": round(t_end - t_ins, 1), "statuses": counts, "sla_clocks": len(clocks)}))


def _kind(kind: str):
    from kefu.domain.service.tickets import Kind

    return Kind(kind)


# ── sweep, count, plan ───────────────────────────────────────────────────────────────────────


def sweep(path: str) -> None:
    """Run the desk's SLA sweep until it has nothing left (clocks that fell due since the load or
    since tickets were opened), so the server's background sweep is idle during a measurement."""
    from kefu.domain.clock import system_clock
    from kefu.services.desk_sweep import sweep_desk
    from kefu.services.uow import Database

    db = Database.from_url(f"sqlite:///{path}")
    rules = _shared_rules()
    t0 = time.perf_counter()
    total = [0, 0, 0]
    rounds = 0
    while True:
        r0 = time.perf_counter()
        res = sweep_desk(db, rules, system_clock, batch=2000)
        rounds += 1
        total = [total[0] + res.warned, total[1] + res.breached, total[2] + res.closed]
        if not (res.warned or res.breached or res.closed):
            break
    idle = []
    for _ in range(3):                      # what the server's background loop pays every 2 s
        r0 = time.perf_counter()
        sweep_desk(db, rules, system_clock)
        idle.append(time.perf_counter() - r0)
    idle_ms = min(idle) * 1000
    db.dispose()
    log(f"sweep: warned {total[0]:,}, breached {total[1]:,}, closed {total[2]:,} in {rounds} rounds, "
        f"{time.perf_counter() - t0:.1f} s; an idle round (nothing due) takes {idle_ms:.1f} ms")
    print(json.dumps({"warned": total[0], "breached": total[1], "closed": total[2],
                      "idle_round_ms": round(idle_ms, 1)}))


def count(path: str) -> None:
    conn = connect(path)
    open_in = "status IN ('new', 'confirmed', 'processing', 'waiting_customer')"
    total = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    open_n = conn.execute(f"SELECT count(*) FROM tickets WHERE {open_in}").fetchone()[0]
    general = conn.execute(f"SELECT count(*) FROM tickets WHERE queue_id = 1 AND {open_in}").fetchone()[0]
    print(total, open_n, general)


def plan(path: str) -> None:
    """The SQL of the two measured paths, as the services compile it, with SQLite's plan and a timing."""
    from sqlalchemy import and_, func, or_, select

    from kefu.adapters.db.tables.service_desk import AgentProfile, QueueMember, Ticket, TicketSla
    from kefu.services.tickets import _OPEN_VALUES
    from kefu.services.uow import Database

    db = Database.from_url(f"sqlite:///{path}")
    conn = connect(path)
    employee_no = conn.execute("SELECT employee_no FROM users WHERE username = 'bench_agent'").fetchone()[0]
    queries = {
        "list_queue page 1": select(Ticket).where(Ticket.status.in_(_OPEN_VALUES), Ticket.queue_id == 1,
                                                  or_(Ticket.named_employee_no.is_(None),
                                                      Ticket.named_employee_no != employee_no))
        .order_by(Ticket.priority, Ticket.id).limit(26),
        "list_queue page 100 (keyset)": None,
        "pick_agent (load of every online member)": select(AgentProfile.user_id, AgentProfile.skills,
                                                           AgentProfile.open_load)
        .join(QueueMember, QueueMember.user_id == AgentProfile.user_id)
        .where(QueueMember.queue_id == 1, AgentProfile.online.is_(True)),
        "sweep: warn candidates": select(TicketSla.id).join(Ticket, Ticket.id == TicketSla.ticket_id).where(
            TicketSla.met_at.is_(None), TicketSla.breached_at.is_(None), TicketSla.warned_at.is_(None),
            TicketSla.warn_at <= func.datetime("now"), Ticket.paused_at.is_(None)).order_by(TicketSla.warn_at)
        .limit(500),
        "sweep: auto-close candidates": select(Ticket.id, Ticket.resolved_at).where(Ticket.status == "resolved")
        .order_by(Ticket.resolved_at).limit(500),
    }
    with db.read_connection() as c:
        # a keyset page deep in the queue: the cursor of row 2,500
        row = c.execute(select(Ticket.priority, Ticket.id).where(Ticket.status.in_(_OPEN_VALUES),
                                                                 Ticket.queue_id == 1)
                        .order_by(Ticket.priority, Ticket.id).offset(2500).limit(1)).first()
        if row is not None:
            queries["list_queue page 100 (keyset)"] = (
                select(Ticket).where(Ticket.status.in_(_OPEN_VALUES), Ticket.queue_id == 1,
                                     or_(Ticket.priority > row[0], and_(Ticket.priority == row[0], Ticket.id > row[1])))
                .order_by(Ticket.priority, Ticket.id).limit(26))
        else:
            del queries["list_queue page 100 (keyset)"]
        for name, q in queries.items():
            compiled = q.compile(c, compile_kwargs={"render_postcompile": True})
            sql = str(compiled)
            params = compiled.params
            args = [params[k] for k in compiled.positiontup] if compiled.positiontup else []
            args = [a.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(a, datetime) else a for a in args]
            plan_rows = conn.execute("EXPLAIN QUERY PLAN " + sql, args).fetchall()
            n = 200
            t0 = time.perf_counter()
            for _ in range(n):
                got = conn.execute(sql, args).fetchall()
            ms = (time.perf_counter() - t0) * 1000 / n
            print(f"-- {name}: {len(got)} rows, {ms:.3f} ms per execution (sqlite3, warm)")
            for r in plan_rows:
                print(f"   {r[-1]}")
    db.dispose()


def trace(path: str, n: int = 20) -> None:
    """Time every SQL statement of the two measured use cases, called in-process as the API calls
    them (``list_queue_rows`` as bench_agent, ``open_ticket_view`` — one ticket a transaction, as
    a lone request is written — as bench_customer; opens ``n`` tickets), and show SQLite's plan
    of the costly ones. Core statements are timed by SQLAlchemy's cursor events, prepared ones
    (kefu.adapters.db.prepared, which skip those events) by wrapping their execution."""
    from collections import defaultdict

    from sqlalchemy import event

    from kefu.adapters.db import prepared
    from kefu.domain.actors import Actor, Role
    from kefu.domain.clock import system_clock
    from kefu.domain.service.tickets import Category, Channel
    from kefu.services import tickets as svc
    from kefu.services.uow import Database

    rules = _shared_rules()
    db = Database.from_url(f"sqlite:///{path}")
    conn = connect(path)
    agent_id = conn.execute("SELECT id FROM users WHERE username = 'bench_agent'").fetchone()[0]
    cust_id = conn.execute("SELECT id FROM users WHERE username = 'bench_customer'").fetchone()[0]
    agent = Actor(agent_id, Role.AGENT, display_name="压测客服")
    customer = Actor(cust_id, Role.CUSTOMER, customer_id=BENCH_CUSTOMER, display_name="压测顾客")
    stats: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(lambda: [0, 0.0, None]))
    current = {"case": ""}
    starts: list[float] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _before(conn_, cursor, statement, parameters, context, executemany):
        starts.append(time.perf_counter())

    @event.listens_for(db.engine, "after_cursor_execute")
    def _after(conn_, cursor, statement, parameters, context, executemany):
        row = stats[current["case"]][statement]
        row[0] += 1
        row[1] += time.perf_counter() - starts.pop()
        if not executemany:
            row[2] = parameters

    def _timed(run):
        def timed(self, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return run(self, *args, **kwargs)
            finally:
                row = stats[current["case"]][self.sql]
                row[0] += 1
                row[1] += time.perf_counter() - t0
        return timed

    prepared.Prepared._rows = _timed(prepared.Prepared._rows)
    prepared.Prepared.run_bound = _timed(prepared.Prepared.run_bound)
    cases = {
        "list_queue_rows": lambda: svc.list_queue_rows(db, agent, queue_code="general", limit=25),
        "open_ticket_view": lambda: svc.open_ticket_view(
            db, customer, svc.TicketRequest(subject="压测工单 trace", body="下单后订单页一直提示支付失败。",
                                            category=Category.PRODUCT, channel=Channel.WEB_CHAT),
            rules, system_clock),
    }
    print(f"-- {conn.execute('SELECT count(*) FROM tickets').fetchone()[0]:,} tickets; SQLite "
          f"{sqlite3.sqlite_version}; {n} calls of each use case, in-process (no HTTP), after 3 warm-up calls")
    for case, call in cases.items():
        for _ in range(3):
            call()
        stats.pop(case, None)
        current["case"] = case
        t0 = time.perf_counter()
        for _ in range(n):
            call()
        wall = (time.perf_counter() - t0) / n * 1000
        rows = sorted(stats[case].items(), key=lambda kv: -kv[1][1])
        sql_ms = sum(v[1] for _, v in rows) / n * 1000
        print(f"\n== {case}: {wall:.2f} ms per call, of which {sql_ms:.2f} ms in {sum(v[0] for _, v in rows) / n:.0f} "
              f"SQL statements (execution time; the rest is Python: the service, jieba, binding; BEGIN/COMMIT "
              f"of prepared writes are not counted)")
        for statement, (count_, secs, params) in rows[:8]:
            one = " ".join(statement.split())
            print(f"  {secs / n * 1000:8.3f} ms/call  x{count_ / n:.0f}  {one[:150]}{'…' if len(one) > 150 else ''}")
            if secs / count_ > 0.001 and params is not None and one.upper().startswith("SELECT"):
                for r in conn.execute("EXPLAIN QUERY PLAN " + statement, params):
                    print(f"        plan: {r[-1]}")
    db.dispose()


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[1] == "people":
        people(argv[2])
    elif len(argv) == 4 and argv[1] == "tickets":
        tickets(argv[2], int(argv[3]))
    elif len(argv) == 3 and argv[1] == "sweep":
        sweep(argv[2])
    elif len(argv) == 3 and argv[1] == "count":
        count(argv[2])
    elif len(argv) == 3 and argv[1] == "plan":
        plan(argv[2])
    elif len(argv) in (3, 4) and argv[1] == "trace":
        trace(argv[2], *(int(a) for a in argv[3:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
