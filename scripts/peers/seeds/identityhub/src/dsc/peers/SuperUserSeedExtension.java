// SPDX-License-Identifier: Apache-2.0
package dsc.peers;

import org.eclipse.edc.identityhub.spi.authentication.ServicePrincipal;
import org.eclipse.edc.identityhub.spi.participantcontext.ParticipantContextService;
import org.eclipse.edc.identityhub.spi.participantcontext.model.KeyDescriptor;
import org.eclipse.edc.identityhub.spi.participantcontext.model.ParticipantManifest;
import org.eclipse.edc.runtime.metamodel.annotation.Inject;
import org.eclipse.edc.spi.EdcException;
import org.eclipse.edc.spi.monitor.Monitor;
import org.eclipse.edc.spi.security.Vault;
import org.eclipse.edc.spi.system.ServiceExtension;
import org.eclipse.edc.spi.system.ServiceExtensionContext;

import java.util.List;
import java.util.Map;

/**
 * Identity Hub >= 0.7 no longer creates an admin ("super-user") participant context; without one, nobody can call the
 * Identity API's participant endpoints. Creates it at start and, if edc.ih.api.superuser.key is set, makes that string
 * its API key (format base64(id) + "." + anything). Same idea as the MinimumViableDataspace seed extension.
 */
public class SuperUserSeedExtension implements ServiceExtension {
    @Inject
    private ParticipantContextService participantContextService;
    @Inject
    private Vault vault;
    private Monitor monitor;
    private String id;
    private String key;

    @Override
    public String name() {
        return "Super-user seed (dsc test peer)";
    }

    @Override
    public void initialize(ServiceExtensionContext context) {
        monitor = context.getMonitor();
        id = context.getConfig().getString("edc.ih.api.superuser.id", "super-user");
        key = context.getConfig().getString("edc.ih.api.superuser.key", null);
    }

    @Override
    public void start() {
        if (participantContextService.getParticipantContext(id).failed()) {
            participantContextService.createParticipantContext(ParticipantManifest.Builder.newInstance()
                            .participantContextId(id)
                            .did("did:web:" + id) // never resolved
                            .active(true)
                            .roles(List.of(ServicePrincipal.ROLE_ADMIN))
                            .key(KeyDescriptor.Builder.newInstance()
                                    .keyId(id + "-key")
                                    .privateKeyAlias(id + "-alias")
                                    .keyGeneratorParams(Map.of("algorithm", "EC", "curve", "secp256r1"))
                                    .build())
                            .build())
                    .orElseThrow(f -> new EdcException("Cannot create super-user: " + f.getFailureDetail()));
        }
        if (key != null) {
            var pc = participantContextService.getParticipantContext(id).orElseThrow(f -> new EdcException(f.getFailureDetail()));
            vault.storeSecret(id, pc.getApiTokenAlias(), key);
        }
        monitor.info("Super-user '%s' ready (API key %s)".formatted(id, key != null ? "from edc.ih.api.superuser.key" : "generated"));
    }
}
