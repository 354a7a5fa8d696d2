#!/usr/bin/env python3
"""Check that DuckDB, pyarrow and pandas read exported files as expected.

Usage: check_readers.py DIR MANIFEST.json

Every *.parquet and *.csv file under DIR must be listed in the manifest,
and every listed file must exist and read, in all three readers, with the
expected row count, columns and types, and with the given text values
intact (accents included). Exit status 0 when all agree, 1 otherwise (each
failure printed on stderr), 2 on a usage or manifest error.

The manifest is JSON:

    {"files": [
      {"path": "calls/window_date=2026-01-02/calls_20260102000000_20260102235959.parquet",
       "rows": 3,
       "columns": ["agent_name", "date", "cost", "time_seg", "hour", "_rejects"],
       "types": {"agent_name": "text", "date": "timestamp", "cost": "float",
                 "time_seg": "integer", "hour": "text", "_rejects": "text"},
       "values": {"agent_name": ["José Peña"]}},
      {"path": "calls/window_date=2026-01-02/calls_20260102000000_20260102235959.csv",
       "rows": 3,
       "columns": ["agent_name", "date"],
       "delimiter": ";", "bom": true,
       "values": {"agent_name": ["José Peña"]}}
    ]}

Paths are relative to DIR. "columns" lists every column in order (for
CSV, the header). For Parquet, "types" gives each column's type: text,
integer, float, timestamp (no time zone) or date. CSV fields are all
read as text; "delimiter" defaults to "," and "bom" to false. "values" maps
a text column to values that must each appear in it.

The readers run with their defaults, as a user would run them, DuckDB's
hive-partition detection included: it adds a column for each `key=value`
folder in the path, which is expected, unless the key is also a column of
the file, which DuckDB then silently replaces by the folder's value; the
check reports that.
"""

import csv
import datetime
import io
import sys

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from checking import Checker, arguments, same_rows

DUCKDB_TYPES = {
    "text": {"VARCHAR"},
    "integer": {"BIGINT"},
    "float": {"DOUBLE"},
    "timestamp": {"TIMESTAMP"},
    "date": {"DATE"},
}

ARROW_TYPES = {
    "text": lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
    "integer": lambda t: t == pa.int64(),
    "float": lambda t: t == pa.float64(),
    "timestamp": lambda t: pa.types.is_timestamp(t) and t.unit == "us" and t.tz is None,
    "date": lambda t: t == pa.date32(),
}


def pandas_type_ok(kind, series):
    """What pandas makes of each type by default (pyarrow engine)."""
    dtype = str(series.dtype)
    non_null = series.dropna()
    if kind == "text":
        return dtype in ("object", "str", "string")
    if kind == "integer":
        # pandas has no nullable int64 by default: nulls make it float64.
        return dtype in ("int64", "Int64") or (dtype == "float64" and series.isna().any())
    if kind == "float":
        return dtype in ("float64", "Float64")
    if kind == "timestamp":
        return dtype.startswith("datetime64[") and "," not in dtype
    if kind == "date":
        return dtype == "object" and all(type(v) is datetime.date for v in non_null)
    return False


def nulls_to_none(value):
    """pandas spells a null NaN, NaT or None; the others spell it None."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    return value


def frame_rows(frame):
    return [[nulls_to_none(v) for v in row] for row in frame.itertuples(index=False)]


def check_values(c, where, reader, names, rows, values):
    for col, wanted in values.items():
        got = {row[names.index(col)] for row in rows}
        for v in wanted:
            c.expect(v in got, where, f"{reader} {col} lacks {v!r}")


def folder_keys(path, root):
    """The `key=value` folders between DIR and the file, as DuckDB sees them."""
    parts = path.relative_to(root).parts[:-1]
    return [tuple(p.split("=", 1)) for p in parts if "=" in p]


def check_duckdb(c, where, rel, names, keys):
    """DuckDB appends a column per `key=value` folder (hive partitioning):
    expected, unless the key is also a column of the file, which it then
    silently replaces. Returns the rows without the folder columns."""
    for key, _ in keys:
        c.expect(key not in names, where, f"duckdb replaces column {key!r} by the folder {key}=")
    extra = [k for k, _ in keys if k not in names]
    c.expect(rel.columns == names + extra, where, f"duckdb columns {rel.columns}")
    rows = rel.fetchall()
    width = len(names)
    for key, value in keys:
        if key in extra:
            at = width + extra.index(key)
            seen = {str(row[at]) for row in rows}
            c.expect(seen <= {value}, where, f"duckdb folder column {key} reads {sorted(seen)}")
    return [row[:width] for row in rows], list(zip(rel.columns, rel.types))[:width]


def check_parquet(c, path, spec, keys):
    where = str(path)
    names = spec["columns"]
    types = spec["types"]
    values = spec.get("values", {})
    c.expect(set(types) == set(names), where, "manifest: types do not match columns")

    # pyarrow reading one file is the reference: no folder-derived columns.
    table = pq.read_table(path)
    c.expect(table.column_names == names, where, f"pyarrow columns {table.column_names}")
    c.expect(table.num_rows == spec["rows"], where, f"pyarrow reads {table.num_rows} rows")
    for field in table.schema:
        kind = types.get(field.name)
        ok = kind is not None and ARROW_TYPES[kind](field.type)
        c.expect(ok, where, f"pyarrow {field.name} is {field.type}")
    want = [list(r.values()) for r in table.to_pylist()]
    check_values(c, where, "pyarrow", table.column_names, want, values)

    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_parquet('{sql_path(path)}')")
    rows, described = check_duckdb(c, where, rel, names, keys)
    for name, ty in described:
        kind = types.get(name)
        ok = kind is not None and str(ty) in DUCKDB_TYPES[kind]
        c.expect(ok, where, f"duckdb {name} is {ty}")
    same_rows(c, where, "duckdb", rows, want)

    frame = pd.read_parquet(path)
    c.expect(list(frame.columns) == names, where, f"pandas columns {list(frame.columns)}")
    for name in frame.columns:
        kind = types.get(name)
        ok = kind is not None and pandas_type_ok(kind, frame[name])
        c.expect(ok, where, f"pandas {name} is {frame[name].dtype}")
    same_rows(c, where, "pandas", frame_rows(frame), want)


def check_csv(c, path, spec, keys):
    where = str(path)
    names = spec["columns"]
    delim = spec.get("delimiter", ",")
    raw = path.read_bytes()
    c.expect(raw.startswith(b"\xef\xbb\xbf") == spec.get("bom", False), where, "BOM presence")

    # Python's csv module on the decoded text is the reference.
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        c.expect(False, where, f"not UTF-8: {err}")
        return
    header, *want = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    c.expect(header == names, where, f"header {header}")
    c.expect(len(want) == spec["rows"], where, f"{len(want)} rows")
    check_values(c, where, "csv", header, want, spec.get("values", {}))

    con = duckdb.connect()
    rel = con.sql(
        f"SELECT * FROM read_csv('{sql_path(path)}', delim = '{delim}', header = true, "
        "all_varchar = true)"
    )
    rows, described = check_duckdb(c, where, rel, names, keys)
    kinds = {str(ty) for _, ty in described}
    c.expect(kinds == {"VARCHAR"}, where, f"duckdb types {sorted(kinds)} with all_varchar")
    duck = [[v if v is not None else "" for v in row] for row in rows]
    same_rows(c, where, "duckdb", duck, want)

    table = pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False
        ),
    )
    c.expect(table.column_names == names, where, f"pyarrow columns {table.column_names}")
    same_rows(c, where, "pyarrow", [list(r.values()) for r in table.to_pylist()], want)

    frame = pd.read_csv(path, sep=delim, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    c.expect(list(frame.columns) == names, where, f"pandas columns {list(frame.columns)}")
    same_rows(c, where, "pandas", frame_rows(frame), want)


def sql_path(path):
    return str(path).replace("'", "''")


def main(argv):
    args = arguments(argv, __doc__)
    if args is None:
        return 2
    root, files = args

    c = Checker()
    listed = {spec["path"] for spec in files}
    on_disk = {
        str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".parquet", ".csv")
    }
    for extra in sorted(on_disk - listed):
        c.expect(False, extra, "on disk but not in the manifest")
    for spec in files:
        path = root / spec["path"]
        if not path.is_file():
            c.expect(False, spec["path"], "missing")
        elif path.suffix == ".parquet":
            check_parquet(c, path, spec, folder_keys(path, root))
        elif path.suffix == ".csv":
            check_csv(c, path, spec, folder_keys(path, root))
        else:
            c.expect(False, spec["path"], "neither .parquet nor .csv")

    for failure in c.failures:
        print(failure, file=sys.stderr)
    versions = f"duckdb {duckdb.__version__}, pyarrow {pa.__version__}, pandas {pd.__version__}"
    if c.failures:
        print(f"reader check: {len(c.failures)} problems in {len(files)} files ({versions})")
        return 1
    print(f"reader check: {len(files)} files read alike ({versions})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
