// A real OpenID Connect provider for the motcua SSO tests (crates/server/tests/oidc.rs).
//
// It is the certified `oidc-provider` package with its development interactions (a login
// form that accepts any name and a consent form), one confidential client and one fixed
// test citizen. It listens on 127.0.0.1 only.
//
//   node provider.mjs --redirect-uri http://127.0.0.1:PORT/auth/sso/callback \
//        [--port 0] [--client-id motcua] [--client-secret secret] \
//        [--auth-method client_secret_basic|client_secret_post]
//
// Every option may also come from the environment (OIDC_PORT, OIDC_REDIRECT_URI,
// OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_AUTH_METHOD). With port 0 the system picks a
// free port; once listening, the script prints one line `LISTENING <issuer>` on stdout,
// which the test waits for. The issuer must contain the real port, so the provider is
// built only after the socket is bound.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OIDC_PORT ?? '0' },
    'redirect-uri': { type: 'string', default: process.env.OIDC_REDIRECT_URI },
    'client-id': { type: 'string', default: process.env.OIDC_CLIENT_ID ?? 'motcua' },
    'client-secret': { type: 'string', default: process.env.OIDC_CLIENT_SECRET ?? 'motcua-test-secret' },
    'auth-method': { type: 'string', default: process.env.OIDC_AUTH_METHOD ?? 'client_secret_basic' },
  },
});

if (!args['redirect-uri']) {
  console.error('provider.mjs: --redirect-uri (or OIDC_REDIRECT_URI) is required');
  process.exit(2);
}

// A fresh signing key per run, like a provider that rotated its keys: the client must
// fetch the JWKS rather than rely on anything it saw before.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `test-${randomBytes(6).toString('hex')}`,
  alg: 'RS256',
  use: 'sig',
};

// The one person of this provider. The login typed in the development form becomes the
// subject, so a test can sign in as several people who share the same profile.
const CITIZEN = {
  name: 'Nguyễn Thị Hoa',
  email: 'nguyenthihoa@example.vn',
  email_verified: true,
};

const server = createServer();
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: args['client-id'],
        client_secret: args['client-secret'],
        redirect_uris: [args['redirect-uri']],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: args['auth-method'],
      },
    ],
    // Publish only the client authentication method under test, so the client must
    // follow what discovery says.
    clientAuthMethods: [args['auth-method']],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
    },
    // Always demand PKCE, so the test proves the client sends it.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...CITIZEN };
        },
      };
    },
  });
  // The development interactions log warnings about themselves on every start; they are
  // exactly what this test provider is for.
  server.on('request', provider.callback());
  console.log(`LISTENING ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
