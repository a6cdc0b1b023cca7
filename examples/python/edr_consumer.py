#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Reads a Kafka PULL transfer with confluent-kafka, using nothing but the consumer connector's Management API.

Every OAuth token comes from the transfer's EDR (`/v3/edrs/{id}/dataaddress?auto_refresh=true`): the connector
renews it at the provider before it expires, so the stream runs for as long as the contract allows. When the
provider suspends or terminates the transfer, the broker refuses the next fetch and this program exits with 3.

    DSC_CLIENT_API_KEY=password python edr_consumer.py --management-url http://localhost:29193/management \\
        --transfer <transfer id> [--group app] [--max-records N] [--from-beginning]

Prints one JSON line per record; exit codes: 0 done, 2 bad input, 3 access revoked, 4 access denied.
"""

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer, KafkaError

AUTHORIZATION_ERRORS = {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED}


class Connector:
    def __init__(self, management_url, api_key):
        self.base = management_url.rstrip("/")
        self.api_key = api_key

    def get(self, path):
        request = urllib.request.Request(self.base + path, headers={"X-Api-Key": self.api_key})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, None

    def edr(self, transfer):
        status, body = self.get(f"/v3/edrs/{transfer}/dataaddress?auto_refresh=true")
        if status != 200:
            raise LookupError(f"no EDR for transfer {transfer} (HTTP {status})")
        return body[0] if isinstance(body, list) else body

    def state(self, transfer):
        status, body = self.get(f"/v3/transferprocesses/{transfer}/state")
        return body.get("state") if status == 200 else None


def claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--management-url", required=True)
    parser.add_argument("--api-key", default=os.environ.get("DSC_CLIENT_API_KEY"))
    parser.add_argument("--transfer", required=True)
    parser.add_argument("--group", default="python-example")
    parser.add_argument("--max-records", type=int)
    parser.add_argument("--from-beginning", action="store_true")
    args = parser.parse_args()
    connector = Connector(args.management_url, args.api_key or "")
    try:
        edr = connector.edr(args.transfer)
    except LookupError as error:
        print(f"edr_consumer: {error}", file=sys.stderr)
        return 2

    def oauth_cb(_config):
        # Called by librdkafka before the current token expires: the connector refreshes it at the provider.
        token = connector.edr(args.transfer)["authorization"]
        token_claims = claims(token)
        # Told of the expiry up to 2.5 s early, librdkafka fetches the next token before its re-authentication
        # would present this one again (which the broker refuses with short-lived tokens).
        expires = float(token_claims["exp"])
        margin = min(2.5, max(expires - time.time(), 0.0) / 2)
        return token, expires - margin, token_claims["sub"], {}

    consumer = Consumer({
        "bootstrap.servers": edr["endpoint"],
        "security.protocol": edr.get("kafka.security.protocol", "SASL_SSL"),
        "sasl.mechanism": edr.get("kafka.sasl.mechanism", "OAUTHBEARER"),
        "oauth_cb": oauth_cb,
        # The group must start with the prefix the provider granted to this transfer.
        "group.id": edr["kafka.group.prefix"] + args.group,
        "auto.offset.reset": "earliest" if args.from_beginning else "latest",
        "enable.auto.offset.store": False,
        # librdkafka pauses a partition's fetching for 1 s once its local queue is full; a reader that empties the
        # queue quickly would sit idle for the rest of that second.
        "fetch.queue.backoff.ms": 10,
    })
    consumer.subscribe([edr["topic"]])
    received = 0
    try:
        while args.max_records is None or received < args.max_records:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().code() in AUTHORIZATION_ERRORS:
                    for _ in range(20):
                        state = connector.state(args.transfer)
                        if state != "STARTED":
                            print(f"edr_consumer: access revoked: transfer {args.transfer} is {state}", file=sys.stderr)
                            return 3
                        time.sleep(0.1)
                    print(f"edr_consumer: access denied: {message.error()}", file=sys.stderr)
                    return 4
                continue
            value = message.value()
            try:
                value = json.loads(value)
            except (TypeError, ValueError):
                value = value.decode("utf-8", "replace") if value is not None else None
            print(json.dumps({"topic": message.topic(), "partition": message.partition(),
                              "offset": message.offset(), "value": value}), flush=True)
            consumer.store_offsets(message)
            received += 1
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()  # commits the stored offsets
    return 0


if __name__ == "__main__":
    sys.exit(main())
