// SPDX-License-Identifier: Apache-2.0
package dsc.peers;

import org.eclipse.edc.runtime.metamodel.annotation.Inject;
import org.eclipse.edc.spi.security.Vault;
import org.eclipse.edc.spi.system.ServiceExtension;
import org.eclipse.edc.spi.system.ServiceExtensionContext;

/**
 * EDC's default vault is in memory and empty, and EDC 0.14's secrets management API is not on Maven Central, so a
 * secret that must be read from the vault (the STS client secret: edc.iam.sts.oauth.client.secret.alias) cannot be
 * given any other way. Copies every setting edc.vault.seed.<alias>=<value> into the vault.
 */
public class VaultSeedExtension implements ServiceExtension {
    @Inject
    private Vault vault;

    @Override
    public String name() {
        return "Vault seed (dsc test peer)";
    }

    @Override
    public void initialize(ServiceExtensionContext context) {
        var seeds = context.getConfig("edc.vault.seed").getRelativeEntries();
        seeds.forEach(vault::storeSecret);
        context.getMonitor().info("Seeded %d vault secret(s): %s".formatted(seeds.size(), seeds.keySet()));
    }
}
