// OpenID Connect provider used by the Marcus integration tests.
//
// Usage: node provider.mjs <port>
//
// Listens on 127.0.0.1:<port> (0 picks a free port). The issuer is
// http://127.0.0.1:<actual port>. Once listening it prints exactly one line,
// `ready <issuer>`, on stdout and then serves until it is killed. Everything
// else (notices, warnings, errors) goes to stderr.
//
// What it offers:
// - client credentials for a fixed set of confidential clients (see CLIENTS),
//   issuing RS256 JWT access tokens whose audience is the requested resource;
// - open dynamic client registration (no initial access token);
// - the authorization code flow with PKCE for alice/wonderland, bob/builder and
//   carol/carol-pass (groups acme:admin + acme:dev, acme:dev, none), through a plain
//   HTML login form served at /interaction/:uid; the ID token carries the granted
//   scopes' claims, `groups` among them;
// - RP-initiated logout at the end_session_endpoint;
// - introspection and revocation.

import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

// oidc-provider prints its notices with console.info; keep stdout for the
// single `ready` line.
console.info = (...args) => console.error(...args);
console.log = (...args) => console.error(...args);

const MARCUS_SCOPES = ['marcus:admin', 'marcus:member', 'marcus:agent', 'marcus:viewer'];

// Marcus scopes alice may be granted; anything else under marcus: is refused.
const ALICE_MARCUS_SCOPES = new Set(['marcus:member']);

const ALICE = {
  username: 'alice',
  password: 'wonderland',
  claims: {
    sub: 'alice',
    name: 'Alice',
    email: 'alice@example.test',
    email_verified: true,
    groups: ['acme:admin', 'acme:dev'],
  },
};

// People who sign in to Marcus's dashboard (single sign-on): their groups become roles
// by the tenant's role map.
const USERS = new Map([
  [ALICE.username, ALICE],
  ['bob', {
    username: 'bob',
    password: 'builder',
    claims: { sub: 'bob', name: 'Bob', email: 'bob@example.test', email_verified: true, groups: ['acme:dev'] },
  }],
  ['carol', {
    username: 'carol',
    password: 'carol-pass',
    claims: { sub: 'carol', name: 'Carol', email: 'carol@example.test', email_verified: true, groups: [] },
  }],
]);

// Confidential clients for the client credentials grant. `roles` is the set
// of Marcus scopes the client may obtain; the access token carries the
// requested subset of it.
const CLIENTS = [
  { id: 'agent-a1', secret: 'agent-a1-secret', roles: ['marcus:agent'] },
  { id: 'viewer-bot', secret: 'viewer-bot-secret', roles: ['marcus:viewer'] },
  { id: 'member-bot', secret: 'member-bot-secret', roles: ['marcus:member'] },
  { id: 'no-role', secret: 'no-role-secret', roles: [] },
  { id: 'short-lived', secret: 'short-lived-secret', roles: ['marcus:agent'] },
];
const STATIC_ROLES = new Map(CLIENTS.map((c) => [c.id, c.roles]));

const SHORT_LIVED_CLIENT = 'short-lived';
const SHORT_TTL_SECONDS = 2;
const DEFAULT_TTL_SECONDS = 300;

function parsePort(argv) {
  const raw = argv[2] ?? '0';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port: ${raw}`);
    process.exit(2);
  }
  return port;
}

function signingJwk() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ...privateKey.export({ format: 'jwk' }),
    kid: `marcus-test-${randomUUID()}`,
    alg: 'RS256',
    use: 'sig',
  };
}

// Marcus scopes a token for `client` may carry. Fixed clients get their own
// roles. Dynamically registered clients get none through client credentials
// (registration is open to anyone) and otherwise whatever the user granted.
function resourceScopes(ctx, client) {
  if (client && STATIC_ROLES.has(client.clientId)) return STATIC_ROLES.get(client.clientId);
  if (ctx?.oidc?.params?.grant_type === 'client_credentials') return [];
  return MARCUS_SCOPES;
}

function accessTokenTTL(client) {
  return client?.clientId === SHORT_LIVED_CLIENT ? SHORT_TTL_SECONDS : DEFAULT_TTL_SECONDS;
}

function tokenTTL(ctx, token, client) {
  return token.resourceServer?.accessTokenTTL ?? accessTokenTTL(client);
}

function configuration() {
  return {
    clients: CLIENTS.map((c) => ({
      client_id: c.id,
      client_secret: c.secret,
      // Secret-based clients may authenticate with either HTTP Basic or
      // client_secret in the form body.
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      // The no-role client registers no scope; its Marcus scopes are
      // withheld by getResourceServerInfo instead.
      ...(c.roles.length ? { scope: c.roles.join(' ') } : {}),
    })),
    jwks: { keys: [signingJwk()] },
    responseTypes: ['code'],
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // Scopes the provider accepts in registrations, client allow lists and
    // requests. offline_access also enables the refresh_token grant type.
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups', ...MARCUS_SCOPES],
    claims: {
      openid: ['sub'],
      profile: ['name'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // Relying parties that read roles from the ID token find the granted claims there.
    conformIdTokenClaims: false,
    async findAccount(ctx, sub) {
      const user = USERS.get(sub);
      if (!user) return undefined;
      return { accountId: sub, claims: async () => ({ ...user.claims }) };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      registration: { enabled: true, initialAccessToken: false },
      resourceIndicators: {
        enabled: true,
        // The resource requested, or none when the request names none.
        defaultResource: async (ctx, client, oneOf) => oneOf ?? undefined,
        useGrantedResource: () => true,
        // Any absolute URL is accepted as a resource indicator; the audience
        // is the indicator exactly as sent.
        getResourceServerInfo: async (ctx, resourceIndicator, client) => {
          return {
            audience: resourceIndicator,
            scope: resourceScopes(ctx, client).join(' '),
            accessTokenFormat: 'jwt',
            accessTokenTTL: accessTokenTTL(client),
          };
        },
      },
    },
    interactions: {
      url: async (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // PKCE stays at the library default: required for public clients
    // (token_endpoint_auth_method none).
    ttl: {
      AccessToken: tokenTTL,
      ClientCredentials: tokenTTL,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      RefreshToken: 86400,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<pre>${escapeHtml(JSON.stringify(out, null, 2))}</pre>`);
    },
  };
}

function escapeHtml(value) {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

function loginForm(uid, clientId, message) {
  const action = `/interaction/${encodeURIComponent(uid)}/login`;
  return page('Sign in', `${message ? `<p role="alert">${escapeHtml(message)}</p>\n` : ''}<p>Client: ${escapeHtml(clientId ?? '')}</p>
<form method="post" action="${escapeHtml(action)}">
<label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>`);
}

function sendHtml(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function requestedResources(params) {
  if (!params.resource) return [];
  return Array.isArray(params.resource) ? params.resource : [params.resource];
}

// Records alice's decision for the pending authorization request: every
// requested scope is granted except Marcus scopes beyond her allowance,
// which are rejected so the provider does not ask again.
async function grantFor(provider, details, accountId) {
  const { params } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });

  const requested = [...new Set(String(params.scope ?? '').split(' ').filter(Boolean))];
  const allowed = requested.filter((s) => !s.startsWith('marcus:') || ALICE_MARCUS_SCOPES.has(s));
  const refused = requested.filter((s) => !allowed.includes(s));

  if (allowed.length) grant.addOIDCScope(allowed.join(' '));
  if (refused.length) grant.rejectOIDCScope(refused.join(' '));

  for (const resource of requestedResources(params)) {
    if (allowed.length) grant.addResourceScope(resource, allowed.join(' '));
    if (refused.length) grant.rejectResourceScope(resource, refused.join(' '));
  }

  const missingClaims = details.prompt?.details?.missingOIDCClaims;
  if (Array.isArray(missingClaims) && missingClaims.length) {
    grant.addOIDCClaims(missingClaims);
  }

  return grant.save();
}

function interactionRoute(req) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const match = /^\/interaction\/([^/]+)(\/login)?\/?$/.exec(url.pathname);
  if (!match) return undefined;
  return { uid: decodeURIComponent(match[1]), login: Boolean(match[2]) };
}

async function handleInteraction(provider, route, req, res) {
  if (!route.login && req.method === 'GET') {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== route.uid) {
      sendHtml(res, 400, page('Error', '<p>Interaction mismatch.</p>'));
      return;
    }
    if (details.prompt.name === 'consent' && details.session?.accountId) {
      const grantId = await grantFor(provider, details, details.session.accountId);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    sendHtml(res, 200, loginForm(route.uid, details.params.client_id));
    return;
  }

  if (route.login && req.method === 'POST') {
    const form = await readForm(req);
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== route.uid) {
      sendHtml(res, 400, page('Error', '<p>Interaction mismatch.</p>'));
      return;
    }
    const username = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    const user = USERS.get(username);
    if (!user || password !== user.password) {
      sendHtml(res, 401, loginForm(route.uid, details.params.client_id, 'Invalid username or password.'));
      return;
    }
    const grantId = await grantFor(provider, details, username);
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: username }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    return;
  }

  res.statusCode = 405;
  res.setHeader('Allow', route.login ? 'POST' : 'GET');
  res.end();
}

function logProviderErrors(provider) {
  provider.on('server_error', (ctx, err) => {
    console.error(`server_error ${ctx?.method ?? ''} ${ctx?.path ?? ''}:`, err);
  });
  for (const event of [
    'authorization.error',
    'grant.error',
    'registration_create.error',
    'introspection.error',
    'revocation.error',
    'userinfo.error',
  ]) {
    provider.on(event, (ctx, err) => {
      console.error(`${event}: ${err?.error ?? err?.name ?? 'error'}: ${err?.error_description ?? err?.message ?? ''}`);
    });
  }
}

async function main() {
  const requestedPort = parsePort(process.argv);

  let callback;
  let provider;
  const server = http.createServer((req, res) => {
    const route = interactionRoute(req);
    if (!route) {
      callback(req, res);
      return;
    }
    handleInteraction(provider, route, req, res).catch((err) => {
      console.error(`interaction ${req.method} ${req.url}:`, err);
      if (!res.headersSent) {
        const status = err?.statusCode && err.statusCode < 500 ? err.statusCode : 500;
        sendHtml(res, status, page('Error', `<p>${escapeHtml(err?.error_description ?? err?.message ?? 'error')}</p>`));
      } else {
        res.end();
      }
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(requestedPort, '127.0.0.1', resolve);
  });
  server.on('error', (err) => console.error('http server error:', err));

  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = new Provider(issuer, configuration());
  provider.proxy = false;
  logProviderErrors(provider);
  callback = provider.callback();

  process.stdout.write(`ready ${issuer}\n`);
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}

main().catch((err) => {
  console.error('provider failed to start:', err);
  process.exit(1);
});
