#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Shows that an ordinary Python Kafka client (confluent-kafka) works with the harness's security model:
a JWT from the OAuth server for a freshly registered client reads topic T once an ACL grants it, cannot read
topic U, and a running consumer is cut off when the ACL is deleted. Reads the harness environment
(eval "$(scripts/harness.sh env)"); prints one line per check and a closing 'N passed, N failed' line."""

import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

ENV = os.environ
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{(': ' + detail) if detail else ''}", flush=True)


def http_json(url, data, headers):
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def register_client():
    body = json.dumps({"grant_types": ["client_credentials"], "response_types": [], "redirect_uris": [],
                       "token_endpoint_auth_method": "client_secret_basic"}).encode()
    answer = http_json(ENV["TEST_OAUTH_REGISTRATION_URL"], body, {
        "Authorization": f"Bearer {ENV['TEST_OAUTH_INITIAL_ACCESS_TOKEN']}", "Content-Type": "application/json"})
    return answer["client_id"], answer["client_secret"]


def access_token(client_id, client_secret):
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    fields = {"grant_type": "client_credentials"}
    if ENV.get("TEST_OAUTH_RESOURCE"):
        fields["resource"] = ENV["TEST_OAUTH_RESOURCE"]
    form = urllib.parse.urlencode(fields).encode()
    answer = http_json(ENV["TEST_OAUTH_TOKEN_URL"], form, {
        "Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
    return answer["access_token"], time.time() + answer["expires_in"]


def acl(action, principal, topic, group_prefix):
    command = ENV["TEST_KAFKA_ACL_COMMAND"].split() + [action, principal, topic, group_prefix]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def admin_config():
    return {"bootstrap.servers": ENV["TEST_KAFKA_ADMIN_BOOTSTRAP"], "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN", "sasl.username": ENV["TEST_KAFKA_ADMIN_USER"],
            "sasl.password": ENV["TEST_KAFKA_ADMIN_PASSWORD"]}


def consumer(principal, token, expires, group, topic):
    errors = []
    c = Consumer({
        "bootstrap.servers": ENV["TEST_KAFKA_OAUTH_BOOTSTRAP"], "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "OAUTHBEARER", "group.id": group, "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        # The token the client was handed; confluent-kafka asks for it through this callback.
        "oauth_cb": lambda _config: (token, expires, principal),
        "error_cb": lambda error: errors.append(error),
    })
    c.subscribe([topic])
    return c, errors


DENIALS = {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED}


def poll(c, errors, want, seconds):
    """Returns ('records', n), ('denied', reason) or ('nothing', 0)."""
    received, deadline = 0, time.time() + seconds
    while time.time() < deadline:
        message = c.poll(0.2)
        if message is not None:
            if message.error():
                if message.error().code() in DENIALS:
                    return "denied", message.error().str()
            else:
                received += 1
                if received >= want:
                    return "records", received
        for error in errors:
            if error.code() in DENIALS:
                return "denied", error.str()
    return ("records", received) if received else ("nothing", 0)


def main():
    suffix = f"{time.time_ns():x}"
    topic, other = f"py-smoke-t-{suffix}", f"py-smoke-u-{suffix}"
    admin = AdminClient(admin_config())
    for future in admin.create_topics([NewTopic(topic, 1, 1), NewTopic(other, 1, 1)]).values():
        future.result(timeout=20)
    producer = Producer(admin_config())
    for i in range(3):
        producer.produce(topic, json.dumps({"record": i}).encode())
        producer.produce(other, json.dumps({"record": i}).encode())
    producer.flush(10)

    client_id, client_secret = register_client()
    token, expires = access_token(client_id, client_secret)
    prefix = f"{client_id}-"
    acl("grant", client_id, topic, prefix)

    reader, errors = consumer(client_id, token, expires, f"{prefix}py", topic)
    kind, detail = poll(reader, errors, 3, 30)
    check("confluent-kafka reads the granted topic with the OAuth token", (kind, detail) == ("records", 3), f"{kind} {detail}")

    stranger, stranger_errors = consumer(client_id, token, expires, f"{prefix}py2", other)
    kind, detail = poll(stranger, stranger_errors, 1, 20)
    check("the same token cannot read another topic", kind == "denied", f"{kind} {detail}")
    stranger.close()

    started = time.time()
    acl("revoke", client_id, topic, prefix)
    for i in range(3):
        producer.produce(topic, json.dumps({"after": i}).encode())
    producer.flush(10)
    kind, detail = poll(reader, errors, 10**9, 30)
    check("deleting the ACL cuts off the running consumer", kind == "denied",
          f"{kind} {detail} ({int((time.time() - started) * 1000)} ms after the revocation started)")
    reader.close()

    passed = sum(results)
    print(f"python-smoke: {passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KafkaException, OSError, KeyError) as error:
        print(f"python-smoke: error: {error}")
        print(f"python-smoke: {sum(results)} passed, {len(results) - sum(results) + 1} failed")
        sys.exit(1)
