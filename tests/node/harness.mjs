// The cognito-mfa server the Node suites drive: start/stop the real binary, plain AWS JSON 1.1
// calls for set-up, and the outbox. Each test file runs in its own process (`node --test`), so
// the module state below is per file.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import readline from 'node:readline';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(HERE, process.env.COGNITO_MFA_BIN || '../../target/debug/cognito-mfa');
const READY_RE = /^cognito-mfa listening on (http:\/\/127\.0\.0\.1:\d+)\s*$/;
const READY_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

let server; // ChildProcess
let dataDir;
let stderrTail = '';

/** Start `cognito-mfa serve` on a free port; resolves with its base URL. */
export function startServer(prefix = 'cognito-mfa-node-') {
  if (!existsSync(BIN)) {
    throw new Error(`cognito-mfa binary not found at ${BIN}; build it with \`cargo build -p cognito-mfa\` or set COGNITO_MFA_BIN`);
  }
  dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  server = spawn(
    BIN,
    ['serve', '--listen', '127.0.0.1:0', '--data-dir', path.join(dataDir, 'data'), '--password-hash', 'fast'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stderr.setEncoding('utf8');
  server.stderr.on('data', (chunk) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`no ready line on stdout within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const lines = readline.createInterface({ input: server.stdout });
    let ready = false;
    function fail(why) {
      clearTimeout(timer);
      server.kill('SIGKILL');
      reject(new Error(`cognito-mfa failed to start: ${why}\n--- stderr ---\n${stderrTail}`));
    }
    lines.once('line', (line) => {
      const m = READY_RE.exec(line);
      if (!m) return fail(`first stdout line is not the ready line: ${JSON.stringify(line)}`);
      ready = true;
      clearTimeout(timer);
      url = m[1];
      resolve(m[1]);
    });
    server.once('exit', (code, signal) => {
      if (!ready) fail(`server exited (code ${code}, signal ${signal}) before it was ready`);
    });
    server.once('error', (err) => fail(err.message));
  });
}

export async function stopServer() {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), 15_000);
    });
    const outcome = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      server.kill('SIGKILL');
      throw new Error(`cognito-mfa did not exit within 15 s of SIGTERM\n--- stderr ---\n${stderrTail}`);
    }
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Plain AWS JSON 1.1 calls (admin set-up) and the outbox
// ---------------------------------------------------------------------------------------------

let url;

/** One cognito-idp call; resolves with the parsed body or rejects with {code, message, status}. */
export async function api(operation, payload) {
  const resp = await fetch(`${url}/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(payload),
  });
  const text = await resp.text();
  const body = text ? JSON.parse(text) : {};
  if (!resp.ok) {
    const err = new Error(`${operation} failed: HTTP ${resp.status} ${text}`);
    err.code = String(body.__type || '').split('#').pop();
    err.status = resp.status;
    err.body = body;
    throw err;
  }
  return body;
}

/** All messages the server recorded for `username`, newest first. */
export async function outbox(poolId, username) {
  const q = new URLSearchParams({ pool_id: poolId, username });
  const resp = await fetch(`${url}/_cognito-mfa/outbox?${q}`);
  assert.equal(resp.status, 200, `outbox: HTTP ${resp.status}`);
  return (await resp.json()).messages;
}

export function uniqueName(prefix) {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}
