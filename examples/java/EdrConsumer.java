// SPDX-License-Identifier: Apache-2.0
// Reads a Kafka PULL transfer with the plain Apache Kafka Java client, using nothing but the consumer
// connector's Management API. The login callback handler takes every OAuth token from the transfer's EDR
// (/v3/edrs/{id}/dataaddress?auto_refresh=true); the Kafka client calls it again before the token expires, so the
// connector renews the token at the provider without a new negotiation.
//
//   javac -cp 'kafka-libs/*' -d out EdrConsumer.java
//   DSC_CLIENT_API_KEY=password java -cp 'out:kafka-libs/*' EdrConsumer http://localhost:29193/management <transfer> [max records]
//
// Prints one JSON line per record; exit codes: 0 done, 2 bad input, 3 access revoked.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;
import org.apache.kafka.common.serialization.StringDeserializer;

public class EdrConsumer {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** The consumer connector's Management API. */
    record Connector(String base, String apiKey) {
        JsonNode get(String path) throws Exception {
            HttpRequest request = HttpRequest.newBuilder(URI.create(base + path)).header("X-Api-Key", apiKey)
                    .timeout(Duration.ofSeconds(30)).GET().build();
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException(path + " answered HTTP " + response.statusCode());
            }
            return JSON.readTree(response.body());
        }

        JsonNode edr(String transfer) throws Exception {
            JsonNode body = get("/v3/edrs/" + transfer + "/dataaddress?auto_refresh=true");
            return body.isArray() ? body.get(0) : body;
        }

        String state(String transfer) throws Exception {
            return get("/v3/transferprocesses/" + transfer + "/state").path("state").asText();
        }
    }

    static Connector connector;
    static String transfer;

    /** Kafka's OAUTHBEARER login asks this handler for a token, and again before each one expires. */
    public static class EdrLoginCallbackHandler implements AuthenticateCallbackHandler {
        @Override
        public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> entries) {}

        @Override
        public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
            for (Callback callback : callbacks) {
                if (!(callback instanceof OAuthBearerTokenCallback tokenCallback)) {
                    throw new UnsupportedCallbackException(callback);
                }
                try {
                    String jwt = connector.edr(transfer).path("authorization").asText();
                    JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]));
                    long expiresMs = claims.path("exp").asLong() * 1000;
                    long issuedMs = claims.path("iat").asLong(System.currentTimeMillis() / 1000) * 1000;
                    String subject = claims.path("sub").asText();
                    tokenCallback.token(new OAuthBearerToken() {
                        public String value() { return jwt; }
                        public Set<String> scope() { return Set.of(); }
                        public long lifetimeMs() { return expiresMs; }
                        public String principalName() { return subject; }
                        public Long startTimeMs() { return issuedMs; }
                    });
                } catch (Exception e) {
                    tokenCallback.error("invalid_token", "no EDR token: " + e.getMessage(), null);
                }
            }
        }

        @Override
        public void close() {}
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: EdrConsumer <management url> <transfer id> [max records]");
            System.exit(2);
        }
        connector = new Connector(args[0].replaceAll("/$", ""), System.getenv().getOrDefault("DSC_CLIENT_API_KEY", ""));
        transfer = args[1];
        long maxRecords = args.length > 2 ? Long.parseLong(args[2]) : Long.MAX_VALUE;
        JsonNode edr;
        try {
            edr = connector.edr(transfer);
        } catch (Exception e) {
            System.err.println("EdrConsumer: no EDR for transfer " + transfer + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        Properties config = new Properties();
        config.put("bootstrap.servers", edr.path("endpoint").asText());
        config.put("security.protocol", edr.path("kafka.security.protocol").asText("SASL_SSL"));
        config.put("sasl.mechanism", "OAUTHBEARER");
        config.put("sasl.jaas.config", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;");
        config.put("sasl.login.callback.handler.class", EdrLoginCallbackHandler.class.getName());
        // The group must start with the prefix the provider granted to this transfer.
        config.put("group.id", edr.path("kafka.group.prefix").asText() + "java-example");
        config.put("auto.offset.reset", "earliest");
        config.put("enable.auto.commit", "false");
        config.put("key.deserializer", StringDeserializer.class.getName());
        config.put("value.deserializer", StringDeserializer.class.getName());
        long received = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(edr.path("topic").asText()));
            while (received < maxRecords) {
                try {
                    for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                        System.out.println(JSON.createObjectNode().put("topic", record.topic())
                                .put("partition", record.partition()).put("offset", record.offset())
                                .set("value", parse(record.value())));
                        received++;
                    }
                    consumer.commitSync();
                } catch (AuthorizationException e) {
                    System.err.println("EdrConsumer: access revoked or denied (transfer is "
                            + connector.state(transfer) + "): " + e.getMessage());
                    System.exit(3);
                }
            }
        }
    }

    static JsonNode parse(String value) {
        try {
            return JSON.readTree(value);
        } catch (Exception e) {
            return JSON.getNodeFactory().textNode(value);
        }
    }
}
