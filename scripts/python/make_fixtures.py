#!/usr/bin/env python3
"""Writes the committed fixtures crates/audit-schema/tests/fixtures/python-avro/: Avro binary
datums of CreateAuditRecordCommand written by Python's `avro` 1.12 (the Apache reference
implementation), for reuse by the Rust tests of audit-schema and audit-consumer.

Usage: make_fixtures.py [--out DIR]     (default: the fixtures folder in the repo)

Layout, one folder per writer schema:
  v1.0.0/, v1.0.1/                    writer = avro/CreateAuditRecordCommand_v<version>.avsc
  v1.0.0-extra-symbol/, v1.0.1-extra-symbol/
                                      writer = that version with two symbols the readers do not
                                      know added to AuditEventType: ARCHIVED inserted after
                                      LISTED (so the indexes of MODIFIED.. shift by one) and
                                      EXPORTED appended; a reader whose AuditEventType declares
                                      the default UNKNOWN (1.0.1 and later) resolves them to it
Each folder holds writer.avsc (the exact writer schema text) and, per datum, NN-name.bin (the
plain binary datum, no framing) and NN-name.json (the datum in the Avro JSON encoding that
interop.py documents, i.e. what was written).

The output is deterministic: `cargo test -p audit-schema` checks that running this script again
gives the committed files byte for byte.
"""
import argparse
import io
import json
import os
import sys

import avro.io
import avro.schema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import interop  # noqa: E402  (the Avro JSON <-> Python datum conversion)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "crates", "audit-schema", "tests", "fixtures", "python-avro")
NS = "ch.admin.bit.jeap.audit.record.create"


def n(short, value):
    return {f"{NS}.{short}": value}


def command(version, event_type, *, full):
    """A command in the Avro JSON encoding of the 1.0.0 / 1.0.1 schemas."""
    cmd = {
        "identity": {"id": f"fixture-{event_type.lower()}-{version}", "idempotenceId": f"idem-{event_type.lower()}", "created": 1700000000123},
        "type": {"name": "CreateAuditRecordCommand", "version": version, "variant": None},
        "publisher": {"system": "JME", "service": "jme-audit-service"},
        "references": {},
        "payload": {
            "timestamp": 1700000000000,
            "event": {"type": event_type, "context": None, "eventData": None},
            "trigger": n("AuditUser", {"id": "user-1", "identityProvider": "eIAM"}),
            "auditedData": None,
        },
        "processId": None,
        "commandVersion": version,
    }
    if full:
        cmd["type"]["variant"] = {"string": "fixture"}
        cmd["processId"] = {"string": "process-42"}
        cmd["payload"]["event"]["context"] = n("AuditContext", {"useCase": "change-address", "processId": {"string": "process-42"}})
        cmd["payload"]["event"]["eventData"] = {"array": [{"key": "reason", "value": "customer request"}, {"key": "channel", "value": "web"}, {"key": "ticket", "value": "T-1234 äöü"}]}
        cmd["payload"]["trigger"] = n("AuditSystemComponent", {"department": "BIT", "system": "JME", "component": "address-service"})
        cmd["payload"]["auditedData"] = n(
            "AuditObject",
            {
                "type": "Address",
                "id": "addr-77",
                "version": {"string": "3"},
                "objectData": {
                    "array": [
                        n("AuditObjectDataValue", {"role": n("AuditObjectDataRole", "OLD"), "name": "street", "value": "Bahnhofstrasse 1"}),
                        n("AuditObjectDataValue", {"role": None, "name": "note", "value": ""}),
                        n("AuditObjectDataJSON", {"role": n("AuditObjectDataRole", "NEW"), "name": "address", "jsonAsUTF8": '{"zip":"3003","city":"Bern"}'}),
                        n("AuditObjectDataS3", {"role": None, "name": "scan", "objectReference": "s3://audit/addr-77/scan.pdf"}),
                    ]
                },
            },
        )
    return cmd


def with_extra_symbols(schema):
    """The schema with ARCHIVED inserted after LISTED and EXPORTED appended to AuditEventType."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "enum" and node.get("name") == "AuditEventType":
                symbols = node["symbols"]
                symbols.insert(symbols.index("LISTED") + 1, "ARCHIVED")
                symbols.append("EXPORTED")
                found.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    assert len(found) == 1, "AuditEventType not found exactly once"
    return schema


def write_folder(out, name, schema_text, datums):
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "writer.avsc"), "w", encoding="utf-8", newline="\n") as f:
        f.write(schema_text)
    node = interop.build(json.loads(schema_text), "", {})
    writer = avro.io.DatumWriter(avro.schema.parse(schema_text))
    for stem, datum in datums:
        buf = io.BytesIO()
        writer.write(interop.to_python(node, datum, "avro"), avro.io.BinaryEncoder(buf))
        with open(os.path.join(folder, f"{stem}.bin"), "wb") as f:
            f.write(buf.getvalue())
        with open(os.path.join(folder, f"{stem}.json"), "w", encoding="utf-8", newline="\n") as f:
            f.write(json.dumps(datum, indent=2, ensure_ascii=False) + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=DEFAULT_OUT)
    args = p.parse_args()
    for version in ("1.0.0", "1.0.1"):
        with open(os.path.join(REPO, "avro", f"CreateAuditRecordCommand_v{version}.avsc"), encoding="utf-8") as f:
            text = f.read()
        plain = [
            ("01-minimal-read", command(version, "READ", full=False)),
            ("02-typical-modified", command(version, "MODIFIED", full=True)),
            ("03-minimal-deleted", command(version, "DELETED", full=False)),
        ]
        write_folder(args.out, f"v{version}", text, plain)
        extra_text = json.dumps(with_extra_symbols(json.loads(text)), indent=2) + "\n"
        extra = plain + [
            ("04-unknown-archived", command(version, "ARCHIVED", full=True)),
            ("05-unknown-exported", command(version, "EXPORTED", full=False)),
        ]
        write_folder(args.out, f"v{version}-extra-symbol", extra_text, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
