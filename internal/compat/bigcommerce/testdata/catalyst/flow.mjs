// Drives tokend's BigCommerce surface with BigCommerce's own GraphQL
// client, @bigcommerce/catalyst-client, as a Catalyst storefront's server
// does: login, the customer query with the customer access token, logout,
// and the customer query again. Prints one JSON line per step.
import { createRequire } from 'node:module';

const require = createRequire(process.env.TOKEND_CATALYST_DIR + '/package.json');
const { createClient, InvalidCustomerAccessTokenError } = require('@bigcommerce/catalyst-client');

const client = createClient({
  storefrontToken: process.env.STOREFRONT_TOKEN,
  storeHash: process.env.STORE_HASH,
  channelId: '1',
});

const out = (step, v) => console.log(JSON.stringify({ step, ...v }));

const login = await client.fetch({
  document: `mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      customer { entityId email firstName lastName }
      customerAccessToken { value expiresAt }
    }
  }`,
  variables: { email: process.env.CUSTOMER_EMAIL, password: process.env.CUSTOMER_PASSWORD },
});
const cat = login.data.login.customerAccessToken.value;
out('login', { customer: login.data.login.customer, token: cat, expiresAt: login.data.login.customerAccessToken.expiresAt });

const me = await client.fetch({
  document: `query Customer { customer { entityId email firstName lastName } }`,
  customerAccessToken: cat,
});
out('customer', { customer: me.data.customer });

const bye = await client.fetch({ document: `mutation Logout { logout { result } }`, customerAccessToken: cat });
out('logout', { result: bye.data.logout.result });

try {
  await client.fetch({ document: `query Customer { customer { entityId } }`, customerAccessToken: cat });
  out('after_logout', { error: null });
} catch (e) {
  out('after_logout', { error: e.name, invalid: e instanceof InvalidCustomerAccessTokenError });
}
