"""Print how many order ids answered 201 by the submit phase have no application row (lost).

    python bench/http/check_rows.py DB_FILE OK_IDS_FILE
"""

import sqlite3
import sys

db, ids_file = sys.argv[1:3]
with open(ids_file) as fh:
    ok = [line.strip() for line in fh if line.strip()]
have = {r[0] for r in sqlite3.connect(db).execute("select order_id from aftersales_applications")}
print(sum(1 for i in ok if i not in have))
