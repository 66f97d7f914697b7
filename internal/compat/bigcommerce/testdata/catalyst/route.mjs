// Loaded with node --import: connections to the store hosts
// (*.<TOKEND_ROUTE_DOMAIN>) go to 127.0.0.1 instead of being looked up,
// keeping the host name for TLS (SNI and certificate check). Nothing of
// the client is changed.
import tls from 'node:tls';

const domain = process.env.TOKEND_ROUTE_DOMAIN;
const connect = tls.connect;

tls.connect = function (...args) {
  const opts = args[0];
  if (opts && typeof opts === 'object' && typeof opts.host === 'string' && domain && opts.host.endsWith('.' + domain)) {
    args[0] = { ...opts, servername: opts.servername || opts.host, host: '127.0.0.1' };
  }
  return connect.apply(this, args);
};
