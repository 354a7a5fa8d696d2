#!/usr/bin/env python3
"""Check that Spark reads exported files as pyarrow and Python's csv do.

Usage: check_spark.py DIR MANIFEST.json

The manifest is the one check_readers.py reads. Spark (pyspark, local
mode) reads every listed file the way its guide says, and must see:

- Parquet: the listed columns with the Spark type of each listed kind
  (text string, integer bigint, float double, timestamp timestamp_ntz,
  date date), and row for row the values pyarrow reads;
- CSV, read with header, multiLine and `"` as the escape (Spark's
  defaults take a backslash as the escape and a line break as the end of
  a row, so a comment holding either breaks rows apart): the header, and
  row for row the values Python's csv module reads, an empty field being
  null;
- each job folder's Parquet files read at once (the `window_date=`
  folders become a date column) with the rows of all its files.

Exit status 0 when all agree, 1 otherwise (each failure printed on
stderr), 2 on a usage or manifest error.
"""

import csv
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from checking import Checker, arguments, same_rows

SPARK_TYPES = {
    "text": "string",
    "integer": "bigint",
    "float": "double",
    "timestamp": "timestamp_ntz",
    "date": "date",
}


def check_parquet(c, spark, path, spec):
    where = str(path)
    frame = spark.read.parquet(str(path))
    names = spec["columns"]
    c.expect(frame.columns == names, where, f"spark columns {frame.columns}")
    for name, ty in frame.dtypes:
        want = SPARK_TYPES.get(spec["types"].get(name))
        c.expect(ty == want, where, f"spark reads {name} as {ty}, not {want}")
    table = pq.read_table(path)
    want = [[row[n] for n in names] for row in table.to_pylist()]
    got = [list(row) for row in frame.collect()]
    same_rows(c, where, "spark", got, want)


def check_csv(c, spark, path, spec):
    where = str(path)
    delim = spec.get("delimiter", ",")
    frame = (
        spark.read.option("header", True)
        .option("multiLine", True)
        .option("escape", '"')
        .option("sep", delim)
        .csv(str(path))
    )
    names = spec["columns"]
    c.expect(frame.columns == names, where, f"spark header {frame.columns}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        records = list(csv.reader(f, delimiter=delim))[1:]
    want = [[v if v != "" else None for v in r] for r in records]
    got = [list(row) for row in frame.collect()]
    same_rows(c, where, "spark", got, want)


def check_folders(c, spark, root, files):
    """Each job folder's Parquet files at once, as a user reads a job."""
    rows = defaultdict(int)
    for spec in files:
        if spec["path"].endswith(".parquet"):
            rows[Path(spec["path"]).parts[0]] += spec["rows"]
    for job, want in sorted(rows.items()):
        where = str(root / job)
        frame = spark.read.option("pathGlobFilter", "*.parquet").parquet(where)
        c.expect(frame.count() == want, where, f"spark reads {frame.count()} rows, not {want}")
        types = dict(frame.dtypes)
        c.expect(types.get("window_date") == "date", where, f"window_date is {types.get('window_date')}")


def main(argv):
    args = arguments(argv, __doc__)
    if args is None:
        return 2
    root, files = args
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("wolkvox-sync reader check")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    c = Checker()
    for spec in files:
        path = root / spec["path"]
        if spec["path"].endswith(".parquet"):
            check_parquet(c, spark, path, spec)
        else:
            check_csv(c, spark, path, spec)
    check_folders(c, spark, root, files)
    version = spark.version
    spark.stop()
    for failure in c.failures:
        print(failure, file=sys.stderr)
    if c.failures:
        return 1
    print(f"spark check: {len(files)} files read alike (spark {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
