// SPDX-License-Identifier: Apache-2.0
// The harness's external OAuth 2.0 authorization server (npm oidc-provider), bound to loopback.
// Kafka validates its JWT access tokens against /jwks; the signing key is kept in STATE_DIR so the key id is
// stable across restarts (the broker caches the JWKS).
import { readFile, writeFile } from 'node:fs/promises';
import Provider from 'oidc-provider';
import { generateKeyPair, exportJWK } from 'jose';

const PORT = Number(process.env.PORT || 9400);
const ISSUER = `http://127.0.0.1:${PORT}`;
const AUDIENCE = process.env.AUDIENCE || 'urn:kafka:broker';
// A second resource indicator whose tokens live only seconds, so tests can prove expired tokens are refused.
const SHORT_LIVED = `${AUDIENCE}:short-lived`;
// Resource indicators `<audience>:ttl-<seconds>` ask for tokens of that lifetime (refresh tests use a few seconds).
const TTL_PREFIX = `${AUDIENCE}:ttl-`;
function lifetimeOf(resource) {
  if (resource === AUDIENCE) return 300;
  if (resource === SHORT_LIVED) return 2;
  if (resource.startsWith(TTL_PREFIX)) {
    const seconds = Number(resource.slice(TTL_PREFIX.length));
    if (Number.isInteger(seconds) && seconds >= 1 && seconds <= 3600) return seconds;
  }
  return undefined;
}
const STATE_DIR = process.env.STATE_DIR || '.';
const KEY_FILE = `${STATE_DIR}/signing-key.json`;

async function signingKey() {
  try {
    return JSON.parse(await readFile(KEY_FILE, 'utf8'));
  } catch {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: `harness-${Date.now()}`, alg: 'ES256', use: 'sig' };
    await writeFile(KEY_FILE, JSON.stringify(jwk), { mode: 0o600 });
    return jwk;
  }
}

const provider = new Provider(ISSUER, {
  jwks: { keys: [await signingKey()] },
  // A static client for the data plane's Kafka admin login over OAUTHBEARER (a super user on the harness broker).
  clients: [{
    client_id: 'kafka-admin',
    client_secret: process.env.ADMIN_CLIENT_SECRET || 'kafka-admin-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
  }],
  scopes: ['kafka'],
  clientDefaults: {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    revocation: { enabled: true, allowedPolicy: async () => true },
    registration: { enabled: true, initialAccessToken: process.env.INITIAL_ACCESS_TOKEN || 'harness-initial-access-token' },
    registrationManagement: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => AUDIENCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        const lifetime = lifetimeOf(resource);
        if (lifetime === undefined) {
          throw new Provider.errors.InvalidTarget();
        }
        return {
          scope: 'kafka',
          audience: AUDIENCE,
          accessTokenTTL: lifetime,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
});
provider.proxy = false;
provider.listen(PORT, '127.0.0.1', () => console.log(`oauth server ${ISSUER} ready`));
