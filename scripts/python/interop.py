#!/usr/bin/env python3
"""Cross-implementation judge: writes and reads Avro binary datums with Python's `avro` (the
Apache reference implementation) and `fastavro`, for comparison with the Rust codec.

Usage:
  interop.py write --impl {avro,fastavro} --schema WRITER.avsc < datums.jsonl > encoded.jsonl
  interop.py read  --impl {avro,fastavro} --schema WRITER.avsc [--reader-schema READER.avsc]
                   < encoded.jsonl > datums.jsonl

Both commands read JSON lines on stdin and write JSON lines on stdout, one per datum, in order.

Exchange forms
--------------
datums.jsonl: one datum per line in the Avro JSON encoding of the Avro specification ("JSON
  Encoding"), for the writer schema (`write`) or the reader schema (`read`):
  - null, boolean, int, long, float, double, string: the JSON value; a `timestamp-millis` long is
    the number of milliseconds since the Unix epoch (an integer, not a date string);
  - bytes: a JSON string whose code points 0-255 are the bytes (ISO-8859-1);
  - record: an object with every field (in schema order); enum: the symbol string;
  - array: a JSON array; map: a JSON object;
  - union: `null` for the null branch, otherwise `{"<branch>": value}` where <branch> is the
    full name of a named type (`"ch.admin.bit.jeap.audit.record.create.AuditUser"`) or the type
    name of an unnamed one (`"string"`, `"array"`, `"map"`).
  This form names every union branch, so it is unambiguous and independent of either library.
encoded.jsonl: one object per line, `{"hex": "<datum bytes in lowercase hex>"}` (the plain Avro
  binary datum, no framing).

`read` fails (exit 1, message on stderr) when a datum does not decode or has trailing bytes.
"""
import argparse
import datetime
import io
import json
import sys

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


class Node:
    """A schema node with names resolved (records may refer to themselves)."""

    def __init__(self, kind, **attrs):
        self.kind = kind
        self.__dict__.update(attrs)

    def branch_name(self):
        if self.kind in ("record", "enum", "fixed"):
            return self.name
        if self.kind == "primitive":
            return self.type
        return self.kind  # "array", "map"


def fullname(name, namespace):
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def build(schema, namespace, names):
    """Turns the JSON schema into Nodes, resolving names as the specification says."""
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return Node("primitive", type=schema, logical=None)
        full = fullname(schema, namespace)
        if full in names:
            return names[full]
        if schema in names:
            return names[schema]
        raise ValueError(f"unknown type {schema!r}")
    if isinstance(schema, list):
        return Node("union", branches=[build(s, namespace, names) for s in schema])
    t = schema["type"]
    if isinstance(t, (dict, list)):
        return build(t, namespace, names)
    if t in PRIMITIVES:
        return Node("primitive", type=t, logical=schema.get("logicalType"))
    if t in ("record", "error", "enum", "fixed"):
        full = fullname(schema["name"], schema.get("namespace", namespace))
        inner = full.rsplit(".", 1)[0] if "." in full else ""
        if t == "enum":
            node = Node("enum", name=full, symbols=list(schema["symbols"]))
        elif t == "fixed":
            node = Node("fixed", name=full, size=int(schema["size"]))
        else:
            node = Node("record", name=full, fields=[])
        names[full] = node
        if node.kind == "record":
            node.fields = [(f["name"], build(f["type"], inner, names)) for f in schema["fields"]]
        return node
    if t == "array":
        return Node("array", items=build(schema["items"], namespace, names))
    if t == "map":
        return Node("map", values=build(schema["values"], namespace, names))
    return build(t, namespace, names)


def millis_to_datetime(ms):
    return EPOCH + datetime.timedelta(milliseconds=ms)


def datetime_to_millis(dt):
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return (dt - EPOCH) // datetime.timedelta(milliseconds=1)


def to_python(node, value, impl):
    """Avro JSON encoding -> the datum the library's writer takes."""
    k = node.kind
    if k == "primitive":
        if node.type == "bytes":
            return value.encode("latin-1")
        if node.type == "long" and node.logical == "timestamp-millis":
            return millis_to_datetime(value)
        return value
    if k == "fixed":
        return value.encode("latin-1")
    if k == "enum":
        return value
    if k == "array":
        return [to_python(node.items, v, impl) for v in value]
    if k == "map":
        return {key: to_python(node.values, v, impl) for key, v in value.items()}
    if k == "record":
        missing = {name for name, _ in node.fields} ^ set(value)
        if missing:
            raise ValueError(f"{node.name}: fields {sorted(missing)} missing or unknown")
        return {name: to_python(child, value[name], impl) for name, child in node.fields}
    if k == "union":
        if value is None:
            return None
        ((key, inner),) = value.items()
        for branch in node.branches:
            if branch.branch_name() == key:
                datum = to_python(branch, inner, impl)
                # fastavro's tuple notation names the branch; avro picks it by validation.
                if impl == "fastavro" and branch.kind == "record":
                    return (branch.name, datum)
                return datum
        raise ValueError(f"no union branch {key!r}")
    raise ValueError(f"unsupported schema kind {k}")


def from_python(node, value):
    """What the library's reader returned -> the Avro JSON encoding."""
    k = node.kind
    if k == "primitive":
        if node.type == "bytes":
            return bytes(value).decode("latin-1")
        if node.type == "long" and isinstance(value, datetime.datetime):
            return datetime_to_millis(value)
        return value
    if k == "fixed":
        return bytes(value).decode("latin-1")
    if k == "enum":
        return value
    if k == "array":
        return [from_python(node.items, v) for v in value]
    if k == "map":
        return {key: from_python(node.values, v) for key, v in value.items()}
    if k == "record":
        if isinstance(value, tuple):
            value = value[1]
        return {name: from_python(child, value[name]) for name, child in node.fields}
    if k == "union":
        branch = pick_branch(node, value)
        if branch.kind == "primitive" and branch.type == "null":
            return None
        if isinstance(value, tuple):
            value = value[1]
        return {branch.branch_name(): from_python(branch, value)}
    raise ValueError(f"unsupported schema kind {k}")


def pick_branch(node, value):
    """The union branch of a value read back (unions of records: by tuple name or field set)."""
    if isinstance(value, tuple):  # fastavro with return_record_name=True
        for b in node.branches:
            if b.branch_name() == value[0]:
                return b
        raise ValueError(f"no union branch {value[0]!r}")
    candidates = [b for b in node.branches if matches(b, value)]
    if len(candidates) != 1:
        raise ValueError(f"cannot tell the union branch of {value!r}: {[b.branch_name() for b in candidates]}")
    return candidates[0]


def matches(b, value):
    if b.kind == "primitive":
        return {
            "null": value is None,
            "boolean": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "long": (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, datetime.datetime),
            "float": isinstance(value, float),
            "double": isinstance(value, float),
            "bytes": isinstance(value, (bytes, bytearray)),
            "string": isinstance(value, str),
        }[b.type]
    if b.kind == "enum":
        return isinstance(value, str)
    if b.kind == "fixed":
        return isinstance(value, (bytes, bytearray)) and len(value) == b.size
    if b.kind == "array":
        return isinstance(value, list)
    if b.kind == "map":
        return isinstance(value, dict)
    if b.kind == "record":
        return isinstance(value, dict) and set(value) == {name for name, _ in b.fields}
    return False


def load(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text, build(json.loads(text), "", {})


def write(impl, schema_text, node, lines, out):
    if impl == "avro":
        import avro.io
        import avro.schema

        writer = avro.io.DatumWriter(avro.schema.parse(schema_text))
    else:
        import fastavro

        parsed = fastavro.parse_schema(json.loads(schema_text))
    for line in lines:
        datum = to_python(node, json.loads(line), impl)
        buf = io.BytesIO()
        if impl == "avro":
            writer.write(datum, avro.io.BinaryEncoder(buf))
        else:
            fastavro.schemaless_writer(buf, parsed, datum)
        out.write(json.dumps({"hex": buf.getvalue().hex()}) + "\n")


def read(impl, writer_text, reader_text, reader_node, lines, out):
    if impl == "avro":
        import avro.io
        import avro.schema

        reader = avro.io.DatumReader(avro.schema.parse(writer_text), avro.schema.parse(reader_text))
    else:
        import fastavro

        w = fastavro.parse_schema(json.loads(writer_text))
        r = fastavro.parse_schema(json.loads(reader_text))
    for n, line in enumerate(lines, 1):
        data = bytes.fromhex(json.loads(line)["hex"])
        buf = io.BytesIO(data)
        if impl == "avro":
            value = reader.read(avro.io.BinaryDecoder(buf))
        else:
            value = fastavro.schemaless_reader(buf, w, r, return_record_name=True)
        if buf.tell() != len(data):
            raise ValueError(f"datum {n}: {len(data) - buf.tell()} trailing bytes")
        out.write(json.dumps(from_python(reader_node, value), ensure_ascii=True) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["write", "read"])
    p.add_argument("--impl", required=True, choices=["avro", "fastavro"])
    p.add_argument("--schema", required=True, help="the writer schema (.avsc)")
    p.add_argument("--reader-schema", help="read only: reader schema (default: the writer schema)")
    args = p.parse_args()
    writer_text, writer_node = load(args.schema)
    # Only "\n" separates lines: str.splitlines() would also split at U+0085 or U+2028, which
    # JSON may carry unescaped inside strings. Input is UTF-8 whatever the locale says.
    lines = [line for line in sys.stdin.buffer.read().decode("utf-8").split("\n") if line.strip()]
    if args.command == "write":
        write(args.impl, writer_text, writer_node, lines, sys.stdout)
    else:
        reader_text, reader_node = load(args.reader_schema) if args.reader_schema else (writer_text, writer_node)
        read(args.impl, writer_text, reader_text, reader_node, lines, sys.stdout)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a clear one-line reason for the Rust test's failure message
        print(f"interop.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
