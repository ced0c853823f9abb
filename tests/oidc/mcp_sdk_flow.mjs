// Completes the MCP authorization flow against a Marcus MCP endpoint with the
// official MCP TypeScript SDK, acting as a public client with alice as the
// user, then lists the tools and calls one.
//
// Usage: node mcp_sdk_flow.mjs <mcp-url>
//        (for example http://127.0.0.1:4298/mcp)
//
// The SDK does the protocol work: it reads the 401 answer's
// WWW-Authenticate resource_metadata, fetches the protected resource metadata
// (RFC 9728) and the authorization server metadata, registers a client
// dynamically, and runs the authorization code flow with PKCE and the
// `resource` parameter. This script only stores what the SDK hands it and
// plays the user in redirectToAuthorization: it follows the authorization URL,
// signs in as alice/wonderland on the provider's login form and keeps the code
// from the redirect.
//
// Output: one JSON line on stdout.
//   success: {"ok": true, "tools": N, "called": "...", "result": {...},
//             "registered_client_id": "...", "token_audience": ...,
//             "requested_scope": ..., "requested_resource": ...}
//   failure: {"ok": false, "error": "..."} and exit status 1.

import { randomBytes } from 'node:crypto';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const USERNAME = 'alice';
const PASSWORD = 'wonderland';

// Loopback redirect URI registered for the client. Nothing listens there: the
// user agent below stops at the redirect and reads the code from it.
const REDIRECT_URL = 'http://127.0.0.1:33418/callback';

const MAX_REDIRECTS = 20;
const OVERALL_TIMEOUT_MS = 60_000;

// Minimal cookie jar: cookies keyed by origin, name and path; sent when the
// request path is under the cookie path; dropped when expired.
class CookieJar {
  #cookies = new Map();

  store(url, response) {
    const { origin, pathname } = new URL(url);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key, ...rest] = attribute.split('=');
        const attrValue = rest.join('=');
        switch (key.toLowerCase()) {
          case 'path':
            path = attrValue || '/';
            break;
          case 'max-age':
            if (Number(attrValue) <= 0) expired = true;
            break;
          case 'expires':
            if (Date.parse(attrValue) <= Date.now()) expired = true;
            break;
          default:
            break;
        }
      }
      const key = `${origin} ${path} ${name}`;
      if (expired) {
        this.#cookies.delete(key);
      } else {
        this.#cookies.set(key, { origin, path, name, value });
      }
    }
  }

  header(url) {
    const { origin, pathname } = new URL(url);
    const pairs = [];
    for (const c of this.#cookies.values()) {
      if (c.origin !== origin) continue;
      const under = pathname === c.path
        || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`);
      if (under) pairs.push(`${c.name}=${c.value}`);
    }
    return pairs.join('; ');
  }
}

function formAction(html, baseUrl) {
  const form = /<form\b[^>]*>/i.exec(html);
  if (!form) return undefined;
  const action = /\baction="([^"]*)"/i.exec(form[0]);
  const decoded = (action?.[1] ?? '').replaceAll('&amp;', '&');
  return new URL(decoded || baseUrl, baseUrl).href;
}

// Plays the user agent: follows the authorization URL, signs in on the login
// form and returns the authorization code delivered to REDIRECT_URL.
async function authorizeAsUser(authorizationUrl, expectedState) {
  const jar = new CookieJar();
  let url = authorizationUrl.href;
  let method = 'GET';
  let body;
  let submitted = false;

  for (let hop = 0; hop < MAX_REDIRECTS; hop += 1) {
    const headers = { accept: 'text/html' };
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';

    const response = await fetch(url, { method, headers, body, redirect: 'manual' });
    jar.store(url, response);

    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (!location) throw new Error(`redirect without Location from ${url}`);
      const next = new URL(location, url);
      if (next.href.startsWith(REDIRECT_URL)) {
        const error = next.searchParams.get('error');
        if (error) {
          throw new Error(`authorization failed: ${error}: ${next.searchParams.get('error_description') ?? ''}`);
        }
        if (expectedState !== undefined && next.searchParams.get('state') !== expectedState) {
          throw new Error('authorization response state does not match the request');
        }
        const code = next.searchParams.get('code');
        if (!code) throw new Error('authorization response carries no code');
        return code;
      }
      url = next.href;
      method = 'GET';
      body = undefined;
      continue;
    }

    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`authorization step ${method} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
    }
    if (submitted) {
      throw new Error(`sign-in did not complete; ${url} answered a page again`);
    }
    const action = formAction(text, url);
    if (!action) throw new Error(`no login form at ${url}`);
    url = action;
    method = 'POST';
    body = new URLSearchParams({ username: USERNAME, password: PASSWORD }).toString();
    submitted = true;
  }
  throw new Error('too many redirects during authorization');
}

// In-memory OAuthClientProvider for the SDK.
class InMemoryOAuthProvider {
  #clientInformation;
  #tokens;
  #codeVerifier;
  #state;
  #discoveryState;
  authorizationCode;
  authorizationRequest;

  get redirectUrl() {
    return REDIRECT_URL;
  }

  get clientMetadata() {
    return {
      client_name: 'Marcus MCP SDK flow',
      redirect_uris: [REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state() {
    this.#state = randomBytes(16).toString('base64url');
    return this.#state;
  }

  clientInformation() {
    return this.#clientInformation;
  }

  saveClientInformation(clientInformation) {
    this.#clientInformation = clientInformation;
  }

  tokens() {
    return this.#tokens;
  }

  saveTokens(tokens) {
    this.#tokens = tokens;
  }

  saveCodeVerifier(codeVerifier) {
    this.#codeVerifier = codeVerifier;
  }

  codeVerifier() {
    if (!this.#codeVerifier) throw new Error('no code verifier saved');
    return this.#codeVerifier;
  }

  discoveryState() {
    return this.#discoveryState;
  }

  saveDiscoveryState(state) {
    this.#discoveryState = state;
  }

  invalidateCredentials(scope) {
    if (scope === 'all' || scope === 'client') this.#clientInformation = undefined;
    if (scope === 'all' || scope === 'tokens') this.#tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this.#codeVerifier = undefined;
    if (scope === 'all' || scope === 'discovery') this.#discoveryState = undefined;
  }

  async redirectToAuthorization(authorizationUrl) {
    this.authorizationRequest = {
      scope: authorizationUrl.searchParams.get('scope'),
      resource: authorizationUrl.searchParams.getAll('resource'),
    };
    this.authorizationCode = await authorizeAsUser(authorizationUrl, this.#state);
  }
}

function decodeJwtPayload(token) {
  const parts = String(token ?? '').split('.');
  if (parts.length !== 3) throw new Error('access token is not a JWT');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

function pickTool(tools) {
  const ping = tools.find((t) => t.name === 'ping');
  if (ping) return ping;
  return tools.find((t) => !(t.inputSchema?.required?.length));
}

async function run(mcpUrl) {
  const serverUrl = new URL(mcpUrl);
  const authProvider = new InMemoryOAuthProvider();
  const client = new Client({ name: 'marcus-mcp-sdk-flow', version: '1.0.0' });

  const first = new StreamableHTTPClientTransport(serverUrl, { authProvider });
  try {
    await client.connect(first);
    throw new Error('the server accepted the connection without authorization');
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
  }
  if (!authProvider.authorizationCode) {
    throw new Error('the SDK did not start the authorization flow');
  }

  await first.finishAuth(authProvider.authorizationCode);
  await client.close();
  await first.close();

  const second = new StreamableHTTPClientTransport(serverUrl, { authProvider });
  await client.connect(second);

  const { tools } = await client.listTools();
  const tool = pickTool(tools);
  if (!tool) throw new Error('no tool callable without arguments');
  const result = await client.callTool({ name: tool.name, arguments: {} });

  const accessToken = authProvider.tokens()?.access_token;
  const payload = decodeJwtPayload(accessToken);

  await client.close();

  return {
    ok: true,
    tools: tools.length,
    called: tool.name,
    result,
    registered_client_id: authProvider.clientInformation()?.client_id,
    token_audience: payload.aud,
    requested_scope: authProvider.authorizationRequest?.scope ?? null,
    requested_resource: authProvider.authorizationRequest?.resource ?? [],
  };
}

let finished = false;

function finish(line, status) {
  if (finished) return;
  finished = true;
  process.stdout.write(`${JSON.stringify(line)}\n`, () => process.exit(status));
}

function fail(error) {
  const message = error instanceof Error ? error.message : String(error);
  if (!finished && error instanceof Error && error.stack) console.error(error.stack);
  finish({ ok: false, error: message }, 1);
}

function main(url) {
  const timer = setTimeout(
    () => fail(new Error(`timed out after ${OVERALL_TIMEOUT_MS} ms`)),
    OVERALL_TIMEOUT_MS,
  );
  run(url).then(
    (outcome) => {
      clearTimeout(timer);
      finish(outcome, 0);
    },
    (error) => {
      clearTimeout(timer);
      fail(error);
    },
  );
}

const mcpUrl = process.argv[2];
if (mcpUrl) {
  main(mcpUrl);
} else {
  fail(new Error('usage: node mcp_sdk_flow.mjs <mcp-url>'));
}
