#!/usr/bin/env bash
# Starts a real SAML 2.0 identity provider (Debian's SimpleSAMLphp) on loopback for tests.
#
#   start-idp.sh WORKDIR PORT SP_ENTITY_ID ACS_URL [MODE]
#
# WORKDIR   a fresh directory owned by this IdP (key, certificate, config, sessions, logs)
# PORT      loopback port to serve on (http://127.0.0.1:PORT)
# SP_ENTITY_ID, ACS_URL  the one service provider this IdP knows
# MODE      `signed` (default): Response and Assertion both signed
#           `expired`: signed, but every assertion's validity ended ten minutes before it was issued
#           `unsigned`: neither the Response nor the Assertion is signed
#           `assertion-only`: only the Assertion is signed
#           `response-only`: only the Response is signed
#
# Prints exactly one line `ready <idp-metadata-url>` on stdout once the metadata answers 200,
# then keeps running (the PHP server is this script's process after exec); everything else
# goes to stderr. Two copies with two WORKDIRs and two ports are two independent IdPs.
set -euo pipefail

if [ $# -lt 4 ] || [ $# -gt 5 ]; then
    echo "usage: $0 WORKDIR PORT SP_ENTITY_ID ACS_URL [signed|unsigned|assertion-only|response-only]" >&2
    exit 2
fi
WORKDIR=$1
PORT=$2
SP_ENTITY_ID=$3
ACS_URL=$4
MODE=${5:-signed}
SSP_WWW=/usr/share/simplesamlphp/www
PACKAGED_CONFIG=/etc/simplesamlphp/config.php

LIFETIME=300
case "$MODE" in
    signed) SIGN_RESPONSE=true; SIGN_ASSERTION=true ;;
    expired) SIGN_RESPONSE=true; SIGN_ASSERTION=true; LIFETIME=-600 ;;
    unsigned) SIGN_RESPONSE=false; SIGN_ASSERTION=false ;;
    assertion-only) SIGN_RESPONSE=false; SIGN_ASSERTION=true ;;
    response-only) SIGN_RESPONSE=true; SIGN_ASSERTION=false ;;
    *) echo "unknown mode '$MODE' (signed, expired, unsigned, assertion-only, response-only)" >&2; exit 2 ;;
esac
case "$PORT" in
    ''|*[!0-9]*) echo "PORT must be a number" >&2; exit 2 ;;
esac
for cmd in php openssl curl; do
    command -v "$cmd" >/dev/null || { echo "$cmd is not installed" >&2; exit 2; }
done
[ -d "$SSP_WWW" ] || { echo "SimpleSAMLphp is not installed ($SSP_WWW missing)" >&2; exit 2; }

mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
mkdir -p "$WORKDIR"/{config,metadata,cert,log,data,tmp,sessions}

# PHP single-quoted string literal for an arbitrary value.
php_str() { printf "'%s'" "$(printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g")"; }

# IdP signing key and self-signed certificate, one pair per WORKDIR.
if [ ! -f "$WORKDIR/cert/idp.key" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
        -subj "/CN=test-idp-127.0.0.1-$PORT" \
        -keyout "$WORKDIR/cert/idp.key" -out "$WORKDIR/cert/idp.crt" >/dev/null 2>&1
fi
if [ ! -f "$WORKDIR/secretsalt" ]; then
    openssl rand -hex 24 > "$WORKDIR/secretsalt"
fi

if [ -r "$PACKAGED_CONFIG" ]; then
    BASE_CONFIG="require $(php_str "$PACKAGED_CONFIG");"
else
    BASE_CONFIG='$config = [];'
fi

cat > "$WORKDIR/config/config.php" <<PHP
<?php
$BASE_CONFIG
\$config = array_merge(\$config, [
    'baseurlpath' => 'http://127.0.0.1:$PORT/',
    'certdir' => $(php_str "$WORKDIR/cert/"),
    'loggingdir' => $(php_str "$WORKDIR/log/"),
    'datadir' => $(php_str "$WORKDIR/data/"),
    'tempdir' => $(php_str "$WORKDIR/tmp"),
    'secretsalt' => $(php_str "$(cat "$WORKDIR/secretsalt")"),
    'auth.adminpassword' => $(php_str "$(cat "$WORKDIR/secretsalt")"),
    'admin.protectindexpage' => false,
    'technicalcontact_email' => 'idp@example.test',
    'timezone' => 'UTC',
    'logging.handler' => 'stderr',
    'logging.level' => SimpleSAML\Logger::NOTICE,
    'enable.saml20-idp' => true,
    'session.cookie.secure' => false,
    // Lax, not the packaged SameSite=None: a browser drops a None cookie that is not Secure,
    // and this IdP serves plain http on loopback.
    'session.cookie.samesite' => 'Lax',
    'session.cookie.name' => 'SimpleSAMLSessionID$PORT',
    'session.phpsession.cookiename' => 'SimpleSAML$PORT',
    'session.authtoken.cookiename' => 'SimpleSAMLAuthToken$PORT',
    'session.phpsession.savepath' => $(php_str "$WORKDIR/sessions"),
    'store.type' => 'phpsession',
    'metadata.sources' => [
        ['type' => 'flatfile', 'directory' => $(php_str "$WORKDIR/metadata")],
    ],
    'module.enable' => [
        'exampleauth' => true,
        'core' => true,
        'saml' => true,
        'admin' => true,
    ],
]);
PHP

cat > "$WORKDIR/config/authsources.php" <<'PHP'
<?php
$config = [
    'admin' => ['core:AdminPassword'],
    'test-users' => [
        'exampleauth:UserPass',
        'alice:wonderland' => [
            'uid' => ['alice'],
            'groups' => ['acme:admin'],
            'email' => ['alice@example.test'],
        ],
        'bob:builder' => [
            'uid' => ['bob'],
            'groups' => ['acme:dev'],
        ],
        'carol:carol-pass' => [
            'uid' => ['carol'],
        ],
    ],
];
PHP

cat > "$WORKDIR/metadata/saml20-idp-hosted.php" <<PHP
<?php
\$metadata['__DYNAMIC:1__'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'test-users',
    'saml20.sign.response' => $SIGN_RESPONSE,
    'saml20.sign.assertion' => $SIGN_ASSERTION,
    'assertion.lifetime' => $LIFETIME,
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'authproc' => [
        10 => ['class' => 'saml:PersistentNameID', 'attribute' => 'uid'],
    ],
];
PHP

cat > "$WORKDIR/metadata/saml20-sp-remote.php" <<PHP
<?php
\$metadata[$(php_str "$SP_ENTITY_ID")] = [
    'AssertionConsumerService' => [
        [
            'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
            'Location' => $(php_str "$ACS_URL"),
            'index' => 0,
        ],
    ],
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'saml20.sign.response' => $SIGN_RESPONSE,
    'saml20.sign.assertion' => $SIGN_ASSERTION,
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
];
PHP

METADATA_URL="http://127.0.0.1:$PORT/saml2/idp/metadata.php"

# Announce readiness from a background watcher; the PHP server takes over this process.
# The watcher gives up when the server has exited (gone, or a zombie not yet reaped by
# whoever started this script) or after 30 seconds.
SERVER_PID=$$
(
    server_running() {
        local state
        state=$(awk '{print $3}' "/proc/$SERVER_PID/stat" 2>/dev/null) || return 1
        [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
    }
    while [ "$SECONDS" -lt 30 ]; do
        if ! server_running; then
            echo "the IdP on port $PORT stopped before answering" >&2
            exit 1
        fi
        if curl -fsS --max-time 2 -o /dev/null "$METADATA_URL" 2>/dev/null; then
            echo "ready $METADATA_URL"
            exit 0
        fi
        sleep 0.1
    done
    echo "the IdP on port $PORT did not answer $METADATA_URL within 30 s" >&2
    exit 1
) &

export SIMPLESAMLPHP_CONFIG_DIR="$WORKDIR/config"
# Several workers: a browser keeps connections open, which would stall a single one.
export PHP_CLI_SERVER_WORKERS=4
exec php -S "127.0.0.1:$PORT" -t "$SSP_WWW" 1>&2
