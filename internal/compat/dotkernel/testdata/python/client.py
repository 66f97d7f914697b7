"""A Python client of Dotkernel API's token endpoint, as its users write
them: the seed's JSON body with urllib, the access token verified with
PyJWT against the tenant's published RS256 key (league's tokens carry no
kid), then the account fetched with the bearer token and the token
refreshed. Prints one JSON line of what it saw; exits non-zero on any
failure."""
import json
import sys
import urllib.request

import jwt

base = sys.argv[1]


def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.load(r)


status, tok = post("/security/generate-token", {
    "grant_type": "password", "client_id": "admin", "client_secret": "admin",
    "scope": "api", "username": "admin", "password": "dotkernel"})
assert status == 200 and list(tok) == ["token_type", "expires_in", "access_token", "refresh_token"], tok

with urllib.request.urlopen(base + "/t/dotkernel/jwks.json", timeout=10) as r:
    keys = [k for k in json.load(r)["keys"] if k.get("alg") == "RS256"]
header = jwt.get_unverified_header(tok["access_token"])
claims = None
for k in keys:
    try:
        claims = jwt.decode(tok["access_token"], jwt.PyJWK(k).key, algorithms=["RS256"], audience="admin")
        break
    except jwt.InvalidSignatureError:
        continue
assert claims is not None, "no published key verifies the token"

req = urllib.request.Request(base + "/admin/my-account", headers={"Authorization": "Bearer " + tok["access_token"]})
with urllib.request.urlopen(req, timeout=10) as r:
    account = json.load(r)
    ctype = r.headers["Content-Type"]

status, again = post("/security/refresh-token", {
    "grant_type": "refresh_token", "client_id": "admin", "client_secret": "admin",
    "scope": "api", "refresh_token": tok["refresh_token"]})
assert status == 200 and again["refresh_token"] != tok["refresh_token"], again

print(json.dumps({"header": header, "sub": claims["sub"], "aud": claims["aud"], "scopes": claims["scopes"],
                  "roles": claims["roles"], "identity": account["identity"], "content_type": ctype,
                  "refreshed": again["refresh_token"].startswith("def50200")}, sort_keys=True))
