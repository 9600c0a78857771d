"""Produces records with librdkafka (python3-confluent-kafka): an independent client for tests.

stdin: one JSON object per line, the record-fixture shape (test/support/record-fixtures.ts):
  {"topic", "partition"?, "timestamp"?, "key": null | {"text"|"hex"|"base64": ...},
   "value": null | {...}, "headers"?: {name: text}}
argv[1]: bootstrap servers. Records are produced in input order, each acknowledged before the
next one is sent (one partition's order is the input order).
"""
import base64
import json
import sys

from confluent_kafka import Producer


def to_bytes(field):
    if field is None:
        return None
    if "text" in field:
        return field["text"].encode("utf-8")
    if "hex" in field:
        return bytes.fromhex(field["hex"])
    if "base64" in field:
        return base64.b64decode(field["base64"])
    raise ValueError("expected null, {text}, {hex} or {base64}")


def main():
    producer = Producer({"bootstrap.servers": sys.argv[1], "enable.idempotence": True, "linger.ms": 0})
    failures = []

    def delivered(error, message):
        if error is not None:
            failures.append(str(error))

    for line in sys.stdin:
        if not line.strip():
            continue
        record = json.loads(line)
        kwargs = {"key": to_bytes(record.get("key")), "value": to_bytes(record.get("value")), "on_delivery": delivered}
        if record.get("partition") is not None:
            kwargs["partition"] = record["partition"]
        if record.get("timestamp") is not None:
            kwargs["timestamp"] = int(record["timestamp"])
        headers = record.get("headers") or {}
        if headers:
            kwargs["headers"] = [(name, value.encode("utf-8")) for name, value in headers.items()]
        producer.produce(record["topic"], **kwargs)
        producer.flush(30)
    if failures:
        print("; ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
