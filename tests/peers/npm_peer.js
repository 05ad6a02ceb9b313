// Builds and checks 007 tokens with the npm package `agora-token` for tests/test_peers.py.
// stdin: {"build": [spec, ...], "check": [{"token", "app_certificate"}, ...]}
// stdout: {"built": [token, ...], "checked": [{"ok", "verified", "services"}, ...]}
"use strict";
const path = require("path");
const root = process.env.AGORA_NPM_PEER_DIR;
const { AccessToken2, ServiceRtc, ServiceRtm, ServiceStreaming, ServiceFpa, ServiceChat,
        ServiceFCdn, ServiceApaas, ServiceRtm2, ServiceConvoAI, ServiceStt, Rtm2Permissions } =
  require(path.join(root, "node_modules", "agora-token", "src", "AccessToken2.js"));

function makeService(spec) {
  const f = spec.fields;
  let service;
  switch (spec.type) {
    case 1: service = new ServiceRtc(f[0], f[1]); break;
    case 2: service = new ServiceRtm(f[0]); break;
    case 3: service = new ServiceStreaming(f[0], f[1]); break;
    case 4: service = new ServiceFpa(); break;
    case 5: service = new ServiceChat(f[0]); break;
    case 6: service = new ServiceFCdn(f[0], f[1]); break;
    case 7: service = new ServiceApaas(f[0], f[1], f[2]); break;
    case 8: {
      const permissions = new Rtm2Permissions();
      for (const [resourceType, permissionType, resources] of spec.permissions) {
        permissions.add(resourceType, permissionType, resources);
      }
      service = new ServiceRtm2(f[0], permissions);
      break;
    }
    case 9: service = new ServiceConvoAI(); break;
    case 10: service = new ServiceStt(); break;
    default: throw new Error("unknown service type " + spec.type);
  }
  for (const [privilege, expire] of spec.privileges) service.add_privilege(privilege, expire);
  return service;
}

function build(spec) {
  const token = new AccessToken2(spec.app_id, spec.app_certificate, spec.issue_ts, spec.expire);
  token.salt = spec.salt;
  for (const s of spec.services) token.add_service(makeService(s));
  return token.build();
}

function check(item) {
  const token = new AccessToken2();
  const ok = token.from_string(item.token);
  return {
    ok: Boolean(ok),
    verified: ok ? token.verifySignature(item.app_certificate) : false,
    app_id: String(token.appId), issue_ts: token.issueTs, expire: token.expire, salt: token.salt,
    services: ok ? token.services.map((s) => s.service_type()) : [],
  };
}

let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const request = JSON.parse(input);
  const out = { built: (request.build || []).map(build), checked: (request.check || []).map(check) };
  process.stdout.write(JSON.stringify(out));
});
