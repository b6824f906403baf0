#!/usr/bin/env bash
# Writes the settings CI's Ansible run uses instead of the vault (fresh random secrets, the given
# self-signed certificate) as YAML on stdout:
#   ansible/ci/vars.sh <certificate.pem> <key.pem> > ci-vars.yml
# Demo users and catalog are on (APP_ENV=production refuses demo users unless PRODUCTION_OVERRIDES
# allows them), so scripts/smoke can sign in and order over https.
set -euo pipefail
certificate=${1:?usage: vars.sh <certificate.pem> <key.pem>}
key=${2:?usage: vars.sh <certificate.pem> <key.pem>}
indent() { sed 's/^/  /' "$1"; }
secret() { openssl rand -hex 16; }
signing_key=$(mktemp)
trap 'rm -f "$signing_key"' EXIT
openssl genpkey -algorithm ed25519 -out "$signing_key"
cat <<YML
vault_admin_email: admin@ci.example.com
vault_admin_password: $(secret)
vault_db_auth_password: $(secret)
vault_db_products_password: $(secret)
vault_db_orders_password: $(secret)
vault_redis_ops_password: $(secret)
vault_redis_auth_password: $(secret)
vault_redis_products_password: $(secret)
vault_redis_orders_password: $(secret)
vault_jwt_private_key: |
$(indent "$signing_key")
vault_tls_certificate: |
$(indent "$certificate")
vault_tls_key: |
$(indent "$key")
marketplace_domain: localhost
marketplace_tls_mode: files
marketplace_demo_users: true
marketplace_seed_catalog: true
marketplace_env_overrides:
  PRODUCTION_OVERRIDES: demo-users
YML
