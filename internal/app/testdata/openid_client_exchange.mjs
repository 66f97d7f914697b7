// Runs an RFC 8693 token exchange with panva's openid-client (npm), as an
// ordinary relying party would: discovery of the tenant's issuer, client
// authentication with client_secret_basic, and the grant through the
// library's generic grant request. Prints the token endpoint's answer as
// JSON, or {"error": ...} when the library refuses or the server errors.
// Usage: node openid_client_exchange.mjs ISSUER CLIENT_ID CLIENT_SECRET SUBJECT_TOKEN SUBJECT_TOKEN_TYPE [SCOPE]
import * as client from 'openid-client';

const [issuer, clientID, clientSecret, subjectToken, subjectTokenType, scope] = process.argv.slice(2);
try {
  const config = await client.discovery(new URL(issuer), clientID, undefined, client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests] });
  const params = { subject_token: subjectToken, subject_token_type: subjectTokenType };
  if (scope) params.scope = scope;
  const tokens = await client.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', params);
  process.stdout.write(JSON.stringify(tokens) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ error: e.error || e.code || e.name, error_description: e.error_description || e.message }) + '\n');
}
