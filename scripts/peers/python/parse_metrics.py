# SPDX-License-Identifier: Apache-2.0
"""Parses Prometheus text exposition from stdin with the Prometheus project's own Python parser
(prometheus_client.parser) and prints every sample as JSON: [{"name", "labels", "value"}, ...].
A document the parser rejects exits non-zero with its error, so the connector's endpoint is checked by a
parser we did not write."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value})
json.dump(samples, sys.stdout)
