// Verifies JWTs with panva's jose and a remote JWKS, as a resource server
// would: one token per line on stdin, one answer per line on stdout
// ("ok KID" or "fail CODE"). The JWKS is cached for argv[5] milliseconds
// and never fetched again within an hour because of an unknown kid, so
// the verifier follows the JWKS's max-age and nothing else.
const { createRemoteJWKSet, jwtVerify } = require('jose');
const readline = require('node:readline');

const [jwksURL, issuer, audience, maxAge] = process.argv.slice(2);
const keys = createRemoteJWKSet(new URL(jwksURL), { cacheMaxAge: Number(maxAge), cooldownDuration: 3600000 });
const rl = readline.createInterface({ input: process.stdin });
const queue = [];
let busy = false;
async function drain() {
  if (busy) return;
  busy = true;
  while (queue.length > 0) {
    const tok = queue.shift();
    try {
      const { protectedHeader } = await jwtVerify(tok, keys, { issuer, audience });
      process.stdout.write('ok ' + protectedHeader.kid + '\n');
    } catch (e) {
      process.stdout.write('fail ' + (e.code || e.name) + '\n');
    }
  }
  busy = false;
}
rl.on('line', (line) => {
  if (line.trim() !== '') {
    queue.push(line.trim());
    drain();
  }
});
