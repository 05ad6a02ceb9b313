// Times npm agora-token's builders in node for benchmarks/run.py: the same workloads, inputs and
// rounds as benchmarks/bench_tokens.py, measured inside node so that its start-up is not counted.
//
// stdin: {"workloads": [...], "rounds", "batch", "warmup", "first_id", "app_id", "app_certificate",
//         "channel", "expire", "publisher"}
// stdout: {"node": version, "results": {workload: {"median_s": per-token median over the rounds,
//          "rounds_s": [per-token time of each round], "sample": {"input", "token"}}}}
// The package is loaded from AGORA_NPM_PEER_DIR/node_modules/agora-token.
"use strict";
const path = require("path");

const root = process.env.AGORA_NPM_PEER_DIR;
const src = path.join(root, "node_modules", "agora-token", "src");
const Rtc007 = require(path.join(src, "RtcTokenBuilder2.js")).RtcTokenBuilder;
const Rtm007 = require(path.join(src, "RtmTokenBuilder2.js")).RtmTokenBuilder;
const Rtc006 = require(path.join(src, "RtcTokenBuilder.js")).RtcTokenBuilder;

function workloads(req) {
  const A = req.app_id, C = req.app_certificate, CH = req.channel, E = req.expire, P = req.publisher;
  const ts006 = Math.floor(Date.now() / 1000) + E; // 006 privilege expiries are absolute times
  // Each is one plain loop around the package's public call, like benchmarks/impls.py's.
  return {
    "rtc-007": {
      input: (i) => i,
      run(xs) { let t; for (const uid of xs) t = Rtc007.buildTokenWithUid(A, C, CH, uid, P, E, E); return t; },
    },
    "rtc-006": {
      input: (i) => i,
      run(xs) { let t; for (const uid of xs) t = Rtc006.buildTokenWithUid(A, C, CH, uid, P, ts006); return t; },
    },
    "rtm-007": {
      input: (i) => `user-${i}`,
      run(xs) { let t; for (const user of xs) t = Rtm007.buildToken(A, C, user, E); return t; },
    },
    "rtc+rtm-007": {
      input: (i) => [i, `user-${i}`],
      run(xs) {
        let t;
        for (const [uid, user] of xs) t = Rtc007.buildTokenWithRtm2(A, C, CH, uid, P, E, E, E, E, E, user, E);
        return t;
      },
    },
  };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main(req) {
  const all = workloads(req);
  let next = req.first_id; // a fresh uid / user id for every call, as in the Python rows
  const fresh = (w) => Array.from({ length: req.batch }, () => w.input(next++));
  const results = {};
  for (const name of req.workloads) {
    const w = all[name];
    if (!w) continue;
    for (let i = 0; i < req.warmup; i++) w.run(fresh(w));
    const rounds = [];
    for (let i = 0; i < req.rounds; i++) {
      const xs = fresh(w);
      const t0 = process.hrtime.bigint();
      w.run(xs);
      rounds.push(Number(process.hrtime.bigint() - t0) / 1e9 / req.batch);
    }
    const input = w.input(next++);
    results[name] = { median_s: median(rounds), rounds_s: rounds, sample: { input, token: w.run([input]) } };
  }
  return { node: process.version, results };
}

let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => { process.stdout.write(JSON.stringify(main(JSON.parse(input)))); });
