// MFA at sign-in through the unchanged `amazon-cognito-identity-js` (README "Testing your app's
// MFA", docs/compatibility.md "MFA at sign-in"): SRP sign-in answered through the library's
// `totpRequired`, `mfaRequired`, `selectMFAType` and `mfaSetup` callbacks, TOTP registration with
// `associateSoftwareToken` / `verifySoftwareToken` / `setUserMfaPreference`, SMS codes read from
// the outbox, and a wrong code retried on the same CognitoUser.
//
// Run: `tests/node/run.sh` (npm ci + `node --test`), or `npm ci && node --test` in this directory.
// Binary: $COGNITO_MFA_BIN (absolute, or relative to this directory), else
// ../../target/debug/cognito-mfa relative to this directory
// (build it with `cargo build -p cognito-mfa`).
//
// TOTP codes come from a small RFC 6238 implementation below (node:crypto HMAC-SHA1). The server
// accepts the previous, current and next 30 s step, each at most once per user: every user
// registers with the current step and signs in with the next one, so no test waits for the clock.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import cognito from 'amazon-cognito-identity-js';
import { api, outbox, startServer, stopServer, uniqueName } from './harness.mjs';

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = cognito;


const PASSWORD = 'Correct-Horse-9';
const PHONE = '+15555550100';
const MASKED_PHONE = '+*******0100';
const SMS_CONFIG = { SnsCallerArn: 'arn:aws:iam::123456789012:role/sms', ExternalId: 'cognito-mfa-node-tests' };
const SMS_MESSAGE = 'Your app sign-in code: {####}';
const CODE_MISMATCH = 'Invalid code or auth state for the user.';

// ---------------------------------------------------------------------------------------------
// RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s)
// ---------------------------------------------------------------------------------------------

const STEP_SECONDS = 30;

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, '').toUpperCase()) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error(`not Base32: ${JSON.stringify(text)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The 6-digit code of `secret` (Base32) for time step `step`. */
function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, '0');
}

const currentStep = () => Math.floor(Date.now() / 1000 / STEP_SECONDS);

/** An authenticator app for one secret that never reuses a time step. */
class Authenticator {
  constructor(secret) {
    this.secret = secret;
    this.lastStep = null;
  }

  /** The current step's code, or the next step's when the current one is spent. */
  async code() {
    for (;;) {
      const now = currentStep();
      const step = this.lastStep === null ? now : Math.max(now, this.lastStep + 1);
      if (step <= now + 1) {
        this.lastStep = step;
        return totpAt(this.secret, step);
      }
      await sleep((now + 1) * STEP_SECONDS * 1000 - Date.now() + 50);
    }
  }

  /** Six digits that match none of the steps the server would accept now. */
  wrongCode() {
    const now = currentStep();
    const valid = new Set([-2, -1, 0, 1, 2].map((d) => totpAt(this.secret, now + d)));
    return ['000000', '111111', '123456', '999999'].find((c) => !valid.has(c));
  }
}

test('the TOTP helper matches the RFC 6238 SHA-1 test vectors', () => {
  // Appendix B: secret "12345678901234567890" (ASCII), last 6 digits of the 8-digit values.
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  assert.equal(base32Decode(secret).toString('ascii'), '12345678901234567890');
  for (const [t, code] of [
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
  ]) {
    assert.equal(totpAt(secret, Math.floor(t / STEP_SECONDS)), code, `t=${t}`);
  }
});

// ---------------------------------------------------------------------------------------------
// The server (tests/node/harness.mjs) and the outbox
// ---------------------------------------------------------------------------------------------

let url;

/** The code in the newest SMS to `username` (the pool's SmsAuthenticationMessage, 6 digits). */
async function smsCode(poolId, username) {
  const [message] = await outbox(poolId, username);
  assert.ok(message, `no outbox message for ${username}`);
  assert.equal(message.channel, 'SMS');
  assert.equal(message.destination, PHONE);
  const code = /(\d{6})$/.exec(message.body)?.[1];
  assert.ok(code, `no 6-digit code at the end of ${JSON.stringify(message.body)}`);
  assert.equal(message.body, SMS_MESSAGE.replace('{####}', code));
  return code;
}

// ---------------------------------------------------------------------------------------------
// amazon-cognito-identity-js, promisified
// ---------------------------------------------------------------------------------------------

/**
 * The callbacks object every challenge-answering method takes: resolves with
 * {kind: 'success', session} or {kind: <callback name>, name, params}, rejects on onFailure.
 */
function outcomes(resolve, reject) {
  const challenge = (kind) => (name, params) => resolve({ kind, name, params });
  return {
    onSuccess: (session) => resolve({ kind: 'success', session }),
    onFailure: reject,
    newPasswordRequired: (userAttributes) => resolve({ kind: 'newPasswordRequired', userAttributes }),
    mfaRequired: challenge('mfaRequired'),
    totpRequired: challenge('totpRequired'),
    selectMFAType: challenge('selectMFAType'),
    mfaSetup: challenge('mfaSetup'),
    customChallenge: (params) => resolve({ kind: 'customChallenge', params }),
  };
}

/** `authenticateUser` (USER_SRP_AUTH + PASSWORD_VERIFIER, the library's default). */
function signIn(user, password = PASSWORD) {
  const details = new AuthenticationDetails({ Username: user.getUsername(), Password: password });
  return new Promise((resolve, reject) => user.authenticateUser(details, outcomes(resolve, reject)));
}

/** `sendMFACode(code, callbacks[, mfaType])`. */
function sendMFACode(user, code, mfaType) {
  return new Promise((resolve, reject) => user.sendMFACode(code, outcomes(resolve, reject), mfaType));
}

/** Node-style callback API → promise. */
function call(fn) {
  return new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));
}

/** `associateSoftwareToken`: resolves with the Base32 secret. */
function associateSoftwareToken(user) {
  return new Promise((resolve, reject) =>
    user.associateSoftwareToken({ associateSecretCode: resolve, onFailure: reject }),
  );
}

/** `verifySoftwareToken`: signed in, resolves with {Status, ...}; in MFA_SETUP, with the session. */
function verifySoftwareToken(user, code, deviceName) {
  return new Promise((resolve, reject) =>
    user.verifySoftwareToken(code, deviceName, { onSuccess: resolve, onFailure: reject }),
  );
}

function assertCodeMismatch(err) {
  assert.equal(err.code, 'CodeMismatchException', `${err.code}: ${err.message}`);
  assert.equal(err.name, 'CodeMismatchException');
  assert.equal(err.message, CODE_MISMATCH);
  return true;
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

describe('amazon-cognito-identity-js MFA against cognito-mfa', () => {
  // OPTIONAL: SMS and TOTP offered, each user decides. ON: SMS and TOTP, every user must use one.
  const pools = {};

  async function createPool(mfa) {
    const { UserPool } = await api('CreateUserPool', {
      PoolName: uniqueName(`node-mfa-${mfa.toLowerCase()}`),
      SmsConfiguration: SMS_CONFIG,
      AutoVerifiedAttributes: ['phone_number'],
    });
    const config = await api('SetUserPoolMfaConfig', {
      UserPoolId: UserPool.Id,
      MfaConfiguration: mfa,
      SmsMfaConfiguration: { SmsConfiguration: SMS_CONFIG, SmsAuthenticationMessage: SMS_MESSAGE },
      SoftwareTokenMfaConfiguration: { Enabled: true },
    });
    assert.equal(config.MfaConfiguration, mfa);
    const { UserPoolClient } = await api('CreateUserPoolClient', {
      UserPoolId: UserPool.Id,
      ClientName: 'node-web',
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH'],
    });
    return {
      id: UserPool.Id,
      clientId: UserPoolClient.ClientId,
      userPool: new CognitoUserPool({ UserPoolId: UserPool.Id, ClientId: UserPoolClient.ClientId, endpoint: url }),
    };
  }

  /** AdminCreateUser (no message) + AdminSetUserPassword Permanent: a CONFIRMED user. */
  async function createUser(pool, prefix, { phone } = {}) {
    const username = uniqueName(prefix);
    await api('AdminCreateUser', {
      UserPoolId: pool.id,
      Username: username,
      TemporaryPassword: 'Temp-Pass-123',
      MessageAction: 'SUPPRESS',
      UserAttributes: phone ? [{ Name: 'phone_number', Value: phone }] : [],
    });
    await api('AdminSetUserPassword', { UserPoolId: pool.id, Username: username, Password: PASSWORD, Permanent: true });
    return username;
  }

  function cognitoUser(pool, username) {
    return new CognitoUser({ Username: username, Pool: pool.userPool });
  }

  function assertSession(pool, session, username) {
    assert.equal(session.isValid(), true, 'session.isValid()');
    const access = session.getAccessToken().decodePayload();
    assert.equal(access.client_id, pool.clientId);
    assert.equal(access.token_use, 'access');
    assert.equal(access.username, username);
    assert.equal(access.iss, `${url}/${pool.id}`);
    const id = session.getIdToken().decodePayload();
    assert.equal(id.aud, pool.clientId);
    assert.equal(id['cognito:username'], username);
    assert.ok(session.getRefreshToken().getToken(), 'a refresh token');
  }

  /**
   * In the OPTIONAL pool: signs in (no MFA yet), registers an authenticator with the library and
   * sets `softwareTokenMfaSettings` (and `smsMfaSettings`) through setUserMfaPreference.
   */
  async function registerTotp(pool, username, { deviceName = 'My phone', sms = null, totp = { PreferredMfa: true, Enabled: true } } = {}) {
    const user = cognitoUser(pool, username);
    const first = await signIn(user);
    assert.equal(first.kind, 'success', `expected tokens before MFA is set up, got ${first.kind}`);
    const secret = await associateSoftwareToken(user);
    assert.match(secret, /^[A-Z2-7]{16,}=*$/);
    const app = new Authenticator(secret);
    const verified = await verifySoftwareToken(user, await app.code(), deviceName);
    assert.equal(verified.Status, 'SUCCESS');
    assert.equal(await call((cb) => user.setUserMfaPreference(sms, totp, cb)), 'SUCCESS');
    return app;
  }

  before(async () => {
    url = await startServer('cognito-mfa-node-mfa-');
    pools.optional = await createPool('OPTIONAL');
    pools.on = await createPool('ON');
  });

  after(stopServer);

  test('SRP + TOTP: totpRequired, then sendMFACode(code, callbacks, SOFTWARE_TOKEN_MFA)', async () => {
    const pool = pools.optional;
    const username = await createUser(pool, 'totp');
    const app = await registerTotp(pool, username);

    const user = cognitoUser(pool, username);
    const challenge = await signIn(user);
    assert.equal(challenge.kind, 'totpRequired');
    assert.equal(challenge.name, 'SOFTWARE_TOKEN_MFA');
    assert.equal(challenge.params.FRIENDLY_DEVICE_NAME, 'My phone');
    assert.equal(challenge.params.USER_ID_FOR_SRP, username);
    assert.equal(user.getSignInUserSession(), null, 'no tokens before the code');

    const done = await sendMFACode(user, await app.code(), 'SOFTWARE_TOKEN_MFA');
    assert.equal(done.kind, 'success');
    assertSession(pool, done.session, username);
    assert.equal(user.getSignInUserSession(), done.session);

    const data = await call((cb) => user.getUserData(cb, { bypassCache: true }));
    assert.deepEqual(data.UserMFASettingList, ['SOFTWARE_TOKEN_MFA']);
    assert.equal(data.PreferredMfaSetting, 'SOFTWARE_TOKEN_MFA');
  });

  test('SRP + SMS: mfaRequired, the code from the outbox, then sendMFACode(code, callbacks)', async () => {
    const pool = pools.on;
    const username = await createUser(pool, 'sms', { phone: PHONE });
    const user = cognitoUser(pool, username);
    const challenge = await signIn(user);
    assert.equal(challenge.kind, 'mfaRequired');
    assert.equal(challenge.name, 'SMS_MFA');
    assert.equal(challenge.params.CODE_DELIVERY_DELIVERY_MEDIUM, 'SMS');
    assert.equal(challenge.params.CODE_DELIVERY_DESTINATION, MASKED_PHONE);

    const code = await smsCode(pool.id, username);
    const done = await sendMFACode(user, code);
    assert.equal(done.kind, 'success');
    assertSession(pool, done.session, username);
    const attrs = Object.fromEntries(
      (await call((cb) => user.getUserAttributes(cb))).map((a) => [a.getName(), a.getValue()]),
    );
    assert.equal(attrs.phone_number, PHONE);
    assert.equal(attrs.phone_number_verified, 'true', 'a code that reached the phone verifies it');
  });

  test('selectMFAType, sendMFASelectionAnswer(SOFTWARE_TOKEN_MFA), then totpRequired', async () => {
    const pool = pools.optional;
    const username = await createUser(pool, 'select', { phone: PHONE });
    const app = await registerTotp(pool, username, {
      sms: { PreferredMfa: false, Enabled: true },
      totp: { PreferredMfa: false, Enabled: true },
    });

    const user = cognitoUser(pool, username);
    const challenge = await signIn(user);
    assert.equal(challenge.kind, 'selectMFAType');
    assert.equal(challenge.name, 'SELECT_MFA_TYPE');
    assert.deepEqual(JSON.parse(challenge.params.MFAS_CAN_CHOOSE).sort(), ['SMS_MFA', 'SOFTWARE_TOKEN_MFA']);

    const selected = await new Promise((resolve, reject) =>
      user.sendMFASelectionAnswer('SOFTWARE_TOKEN_MFA', outcomes(resolve, reject)),
    );
    assert.equal(selected.kind, 'totpRequired');
    assert.equal(selected.name, 'SOFTWARE_TOKEN_MFA');
    assert.equal(selected.params.FRIENDLY_DEVICE_NAME, 'My phone');
    assert.deepEqual(await outbox(pool.id, username), [], 'choosing TOTP sends no SMS');

    const done = await sendMFACode(user, await app.code(), 'SOFTWARE_TOKEN_MFA');
    assert.equal(done.kind, 'success');
    assertSession(pool, done.session, username);

    // The same choice offered again; this time SMS (mfaRequired).
    const again = cognitoUser(pool, username);
    assert.equal((await signIn(again)).kind, 'selectMFAType');
    const sms = await new Promise((resolve, reject) =>
      again.sendMFASelectionAnswer('SMS_MFA', outcomes(resolve, reject)),
    );
    assert.equal(sms.kind, 'mfaRequired');
    assert.equal(sms.params.CODE_DELIVERY_DESTINATION, MASKED_PHONE);
    const viaSms = await sendMFACode(again, await smsCode(pool.id, username));
    assert.equal(viaSms.kind, 'success');
  });

  test('mfaSetup (ON pool, no factor): associateSoftwareToken, verifySoftwareToken, then tokens', async () => {
    const pool = pools.on;
    const username = await createUser(pool, 'setup');
    const user = cognitoUser(pool, username);
    const challenge = await signIn(user);
    assert.equal(challenge.kind, 'mfaSetup');
    assert.equal(challenge.name, 'MFA_SETUP');
    // As AWS: every offered factor but the recovery channel, SMS_MFA too.
    assert.deepEqual(JSON.parse(challenge.params.MFAS_CAN_SETUP), ['SMS_MFA', 'SOFTWARE_TOKEN_MFA']);

    // Not signed in: the library passes the challenge Session and keeps the one returned.
    const secret = await new Promise((resolve, reject) =>
      user.associateSoftwareToken({
        associateSecretCode(code) {
          resolve(code);
        },
        onFailure: reject,
      }),
    );
    const app = new Authenticator(secret);
    const session = await verifySoftwareToken(user, await app.code(), 'My device');
    assertSession(pool, session, username);
    assert.equal(user.getSignInUserSession(), session);

    // The next sign-in asks for the authenticator it registered.
    const next = cognitoUser(pool, username);
    const totp = await signIn(next);
    assert.equal(totp.kind, 'totpRequired');
    assert.equal(totp.params.FRIENDLY_DEVICE_NAME, 'My device');
    const done = await sendMFACode(next, await app.code(), 'SOFTWARE_TOKEN_MFA');
    assert.equal(done.kind, 'success');
    assertSession(pool, done.session, username);
  });

  test('a wrong TOTP code fails with CodeMismatchException; the right one then succeeds on the same user', async () => {
    const pool = pools.optional;
    const username = await createUser(pool, 'wrong');
    const app = await registerTotp(pool, username);
    const user = cognitoUser(pool, username);
    assert.equal((await signIn(user)).kind, 'totpRequired');

    await assert.rejects(sendMFACode(user, app.wrongCode(), 'SOFTWARE_TOKEN_MFA'), assertCodeMismatch);
    assert.equal(user.getSignInUserSession(), null);

    const done = await sendMFACode(user, await app.code(), 'SOFTWARE_TOKEN_MFA');
    assert.equal(done.kind, 'success');
    assertSession(pool, done.session, username);
  });

  test('a wrong SMS code fails with CodeMismatchException; the right one then succeeds on the same user', async () => {
    const pool = pools.on;
    const username = await createUser(pool, 'wrongsms', { phone: PHONE });
    const user = cognitoUser(pool, username);
    assert.equal((await signIn(user)).kind, 'mfaRequired');
    const code = await smsCode(pool.id, username);

    await assert.rejects(sendMFACode(user, code === '000000' ? '111111' : '000000'), assertCodeMismatch);
    const done = await sendMFACode(user, code);
    assert.equal(done.kind, 'success');
    assertSession(pool, done.session, username);
  });

  test('a TOTP code is accepted once: the same code cannot sign in twice', async () => {
    const pool = pools.optional;
    const username = await createUser(pool, 'replay');
    const app = await registerTotp(pool, username);
    const code = await app.code();

    const first = cognitoUser(pool, username);
    assert.equal((await signIn(first)).kind, 'totpRequired');
    assert.equal((await sendMFACode(first, code, 'SOFTWARE_TOKEN_MFA')).kind, 'success');

    const second = cognitoUser(pool, username);
    assert.equal((await signIn(second)).kind, 'totpRequired');
    await assert.rejects(sendMFACode(second, code, 'SOFTWARE_TOKEN_MFA'), (err) => {
      assert.equal(err.code, 'ExpiredCodeException', `${err.code}: ${err.message}`);
      assert.equal(err.message, 'Your software token has already been used once.');
      return true;
    });
  });

  test('USER_PASSWORD_AUTH through the library is challenged the same way', async () => {
    const pool = pools.optional;
    const username = await createUser(pool, 'plain');
    const app = await registerTotp(pool, username);
    const user = cognitoUser(pool, username);
    user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
    const challenge = await signIn(user);
    assert.equal(challenge.kind, 'totpRequired');
    const done = await sendMFACode(user, await app.code(), 'SOFTWARE_TOKEN_MFA');
    assert.equal(done.kind, 'success');
    assertSession(pool, done.session, username);
  });
});
