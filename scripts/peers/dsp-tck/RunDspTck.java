// SPDX-License-Identifier: Apache-2.0
// Runs the Dataspace Protocol TCK against a connector and prints one line per test: PASS|FAIL <display name>
// [reason]. The TCK's own suite main always exits 0, so this launcher lists the results for the caller to judge.
// Usage: java -cp '<tck class path>' RunDspTck.java <tck.properties>

import java.io.FileReader;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.eclipse.dataspacetck.core.system.ConsoleMonitor;
import org.eclipse.dataspacetck.dsp.system.DspSystemLauncher;
import org.eclipse.dataspacetck.runtime.TckRuntime;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

public class RunDspTck {
    /** Remembers which tests started (the TCK announces each on its monitor) and prints like its console monitor. */
    static final class Recording extends ConsoleMonitor {
        private final java.util.Set<String> started;

        Recording(java.util.Set<String> started) {
            super(false, false);
            this.started = started;
        }

        @Override
        public org.eclipse.dataspacetck.core.spi.boot.Monitor message(String message) {
            if (message.startsWith("Started: ")) {
                started.add(message.substring("Started: ".length()).trim());
            }
            return super.message(message);
        }
    }

    private static final String PACKAGE = "org.eclipse.dataspacetck.dsp.verification";

    public static void main(String[] args) throws Exception {
        var properties = new Properties();
        try (var reader = new FileReader(args[0])) {
            properties.load(reader);
        }
        Map<String, String> config = new HashMap<>();
        properties.forEach((key, value) -> config.put(key.toString(), value.toString()));

        // Every test the package holds, by display name (the test id comes first: "CAT:01-01: ...").
        LauncherDiscoveryRequest discovery = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage(PACKAGE)).configurationParameters(config).build();
        var plan = LauncherFactory.create().discover(discovery);
        Map<String, String> results = new TreeMap<>();
        for (var root : plan.getRoots()) {
            for (TestIdentifier test : plan.getDescendants(root)) {
                if (test.isTest()) {
                    results.put(test.getDisplayName(), "PASS");
                }
            }
        }

        var started = new java.util.HashSet<String>();
        var summary = TckRuntime.Builder.newInstance()
                .properties(config)
                .addPackage(PACKAGE)
                .launcher(DspSystemLauncher.class)
                .monitor(new Recording(started))
                .build()
                .execute();
        for (var failure : summary.getFailures()) {
            var message = String.valueOf(failure.getException().getMessage()).replaceAll("\\s+", " ");
            if (message.length() > 240) {
                message = message.substring(0, 240) + "...";
            }
            results.put(failure.getTestIdentifier().getDisplayName(), "FAIL " + message);
        }
        System.out.println("=== DSP TCK results ===");
        results.forEach((name, outcome) -> {
            if (!started.contains(name)) {
                System.out.println("SKIP " + name + " | disabled in this TCK release");
            } else if (outcome.equals("PASS")) {
                System.out.println("PASS " + name);
            } else {
                System.out.println("FAIL " + name + " | " + outcome.substring(5));
            }
        });
        System.out.printf("=== %d tests, %d failed ===%n", results.size(), summary.getTotalFailureCount());
    }
}
