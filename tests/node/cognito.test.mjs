// cognito-mfa driven by the unchanged `amazon-cognito-identity-js` (the browser/Node library
// Amplify v5 and many apps use): SRP sign-in, sign-up + confirmation, user attributes, refresh,
// NEW_PASSWORD_REQUIRED and global sign-out.
//
// Run: `tests/node/run.sh` (npm ci + `node --test`), or `npm ci && node --test` in this directory.
// Binary: $COGNITO_MFA_BIN (absolute, or relative to this directory), else
// ../../target/debug/cognito-mfa relative to this directory
// (build it with `cargo build -p cognito-mfa`).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import cognito from 'amazon-cognito-identity-js';
import { api, outbox, startServer, stopServer, uniqueName } from './harness.mjs';

const { AuthenticationDetails, CognitoUser, CognitoUserAttribute, CognitoUserPool } = cognito;


const PASSWORD = 'Correct-Horse-9';
const WRONG_PASSWORD = 'Wrong-Horse-9';

// ---------------------------------------------------------------------------------------------
// The server (tests/node/harness.mjs) and the outbox
// ---------------------------------------------------------------------------------------------

let url;

/** The newest message the server recorded for `username`, e.g. a sign-up code. */
async function latestMessage(poolId, username) {
  const messages = await outbox(poolId, username);
  assert.ok(messages.length > 0, `no outbox message for ${username}`);
  return messages[0];
}

// ---------------------------------------------------------------------------------------------
// amazon-cognito-identity-js, promisified
// ---------------------------------------------------------------------------------------------

/**
 * `authenticateUser`; resolves with {kind: 'success', session} or
 * {kind: 'newPasswordRequired', userAttributes, requiredAttributes}, rejects on onFailure.
 */
function authenticate(user, username, password) {
  const details = new AuthenticationDetails({ Username: username, Password: password });
  return new Promise((resolve, reject) => {
    user.authenticateUser(details, {
      onSuccess: (session) => resolve({ kind: 'success', session }),
      onFailure: reject,
      newPasswordRequired: (userAttributes, requiredAttributes) =>
        resolve({ kind: 'newPasswordRequired', userAttributes, requiredAttributes }),
      mfaRequired: (name, params) => reject(new Error(`unexpected mfaRequired: ${name} ${JSON.stringify(params)}`)),
      totpRequired: (name, params) => reject(new Error(`unexpected totpRequired: ${name} ${JSON.stringify(params)}`)),
      customChallenge: (params) => reject(new Error(`unexpected customChallenge: ${JSON.stringify(params)}`)),
      mfaSetup: (name, params) => reject(new Error(`unexpected mfaSetup: ${name} ${JSON.stringify(params)}`)),
      selectMFAType: (name, params) => reject(new Error(`unexpected selectMFAType: ${name} ${JSON.stringify(params)}`)),
    });
  });
}

/** Node-style callback API → promise. */
function call(fn) {
  return new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));
}

function attributesToObject(list) {
  return Object.fromEntries(list.map((a) => [a.getName(), a.getValue()]));
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

describe('amazon-cognito-identity-js against cognito-mfa', () => {
  let poolId;
  let clientId;
  let userPool;

  /** AdminCreateUser (no message) + AdminSetUserPassword Permanent: a CONFIRMED user. */
  async function createConfirmedUser(username, email) {
    await api('AdminCreateUser', {
      UserPoolId: poolId,
      Username: username,
      TemporaryPassword: 'Temp-Pass-123',
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
      ],
    });
    await api('AdminSetUserPassword', { UserPoolId: poolId, Username: username, Password: PASSWORD, Permanent: true });
  }

  function cognitoUser(username) {
    return new CognitoUser({ Username: username, Pool: userPool });
  }

  function assertSession(session, username) {
    assert.equal(session.isValid(), true, 'session.isValid()');
    const access = session.getAccessToken().decodePayload();
    assert.equal(access.client_id, clientId, 'access token client_id');
    assert.equal(access.token_use, 'access');
    assert.equal(access.username, username);
    assert.equal(access.iss, `${url}/${poolId}`);
    assert.equal(typeof access.sub, 'string');
    assert.equal(access.aud, undefined, 'access tokens carry no aud');
    const id = session.getIdToken().decodePayload();
    assert.equal(id.aud, clientId, 'ID token aud');
    assert.equal(id.token_use, 'id');
    assert.equal(id.iss, `${url}/${poolId}`);
    assert.equal(id['cognito:username'], username);
    assert.equal(id.sub, access.sub);
    assert.ok(session.getRefreshToken().getToken(), 'a refresh token');
    return { access, id };
  }

  before(async () => {
    url = await startServer('cognito-mfa-node-');
    const pool = await api('CreateUserPool', {
      PoolName: uniqueName('node'),
      AutoVerifiedAttributes: ['email'],
    });
    poolId = pool.UserPool.Id;
    const client = await api('CreateUserPoolClient', {
      UserPoolId: poolId,
      ClientName: 'node-web',
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH'],
    });
    clientId = client.UserPoolClient.ClientId;
    assert.equal(client.UserPoolClient.ClientSecret, undefined, 'a public client has no secret');
    userPool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint: url });
  });

  after(stopServer);

  test('SRP sign-in (USER_SRP_AUTH + PASSWORD_VERIFIER) gives a session for the client', async () => {
    const username = uniqueName('srp');
    await createConfirmedUser(username, `${username}@example.com`);
    const user = cognitoUser(username);
    const result = await authenticate(user, username, PASSWORD);
    assert.equal(result.kind, 'success');
    assertSession(result.session, username);
    assert.equal(user.getSignInUserSession(), result.session);
  });

  test('a wrong password fails with NotAuthorizedException', async () => {
    const username = uniqueName('wrong');
    await createConfirmedUser(username, `${username}@example.com`);
    await assert.rejects(authenticate(cognitoUser(username), username, WRONG_PASSWORD), (err) => {
      assert.equal(err.code, 'NotAuthorizedException');
      assert.equal(err.name, 'NotAuthorizedException');
      assert.equal(err.message, 'Incorrect username or password.');
      return true;
    });
    // The right password still works afterwards.
    const ok = await authenticate(cognitoUser(username), username, PASSWORD);
    assert.equal(ok.kind, 'success');
  });

  test('an unknown user fails like AWS (UserNotFoundException, User does not exist.)', async () => {
    const username = uniqueName('ghost');
    await assert.rejects(authenticate(cognitoUser(username), username, PASSWORD), (err) => {
      assert.equal(err.code, 'UserNotFoundException');
      assert.equal(err.message, 'User does not exist.');
      return true;
    });
  });

  test('getUserAttributes after sign-in (GetUser with the access token)', async () => {
    const username = uniqueName('attrs');
    const email = `${username}@example.com`;
    await createConfirmedUser(username, email);
    const user = cognitoUser(username);
    const { session } = await authenticate(user, username, PASSWORD);
    const attrs = attributesToObject(await call((cb) => user.getUserAttributes(cb)));
    assert.equal(attrs.email, email);
    assert.equal(attrs.email_verified, 'true');
    assert.equal(attrs.sub, session.getAccessToken().decodePayload().sub);
  });

  test('USER_PASSWORD_AUTH through the library', async () => {
    const username = uniqueName('plain');
    await createConfirmedUser(username, `${username}@example.com`);
    const user = cognitoUser(username);
    user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
    const result = await authenticate(user, username, PASSWORD);
    assert.equal(result.kind, 'success');
    assertSession(result.session, username);
  });

  test('refreshSession (REFRESH_TOKEN_AUTH) gives new tokens for the same user', async () => {
    const username = uniqueName('refresh');
    await createConfirmedUser(username, `${username}@example.com`);
    const user = cognitoUser(username);
    const { session } = await authenticate(user, username, PASSWORD);
    const before = assertSession(session, username);
    const refreshed = await call((cb) => user.refreshSession(session.getRefreshToken(), cb));
    const after = assertSession(refreshed, username);
    assert.equal(after.access.sub, before.access.sub);
    assert.notEqual(refreshed.getAccessToken().getJwtToken(), session.getAccessToken().getJwtToken());
    // The library's cache now answers getSession without a call.
    const cached = await call((cb) => cognitoUser(username).getSession(cb));
    assert.equal(cached.getAccessToken().getJwtToken(), refreshed.getAccessToken().getJwtToken());
  });

  test('sign-up: signUp, the code from the outbox, confirmRegistration, then SRP sign-in', async () => {
    const username = uniqueName('signup');
    const email = `${username}@example.com`;
    const signUp = await call((cb) =>
      userPool.signUp(username, PASSWORD, [new CognitoUserAttribute({ Name: 'email', Value: email })], null, cb),
    );
    assert.equal(signUp.userConfirmed, false);
    assert.equal(typeof signUp.userSub, 'string');
    assert.equal(signUp.codeDeliveryDetails.DeliveryMedium, 'EMAIL');
    assert.equal(signUp.codeDeliveryDetails.AttributeName, 'email');
    assert.equal(signUp.user.getUsername(), username);

    // Not confirmed yet: sign-in is refused.
    await assert.rejects(authenticate(cognitoUser(username), username, PASSWORD), (err) => {
      assert.equal(err.code, 'UserNotConfirmedException');
      return true;
    });

    const message = await latestMessage(poolId, username);
    assert.equal(message.destination, email);
    const code = /\b(\d{6})\b/.exec(message.body)?.[1];
    assert.ok(code, `no 6-digit code in ${JSON.stringify(message.body)}`);

    // A wrong code first.
    const wrong = code === '000000' ? '111111' : '000000';
    await assert.rejects(call((cb) => signUp.user.confirmRegistration(wrong, true, cb)), (err) => {
      assert.equal(err.code, 'CodeMismatchException');
      return true;
    });
    assert.equal(await call((cb) => signUp.user.confirmRegistration(code, true, cb)), 'SUCCESS');

    const user = cognitoUser(username);
    const result = await authenticate(user, username, PASSWORD);
    assert.equal(result.kind, 'success');
    const { access } = assertSession(result.session, username);
    assert.equal(access.sub, signUp.userSub);
    const attrs = attributesToObject(await call((cb) => user.getUserAttributes(cb)));
    assert.equal(attrs.email, email);
    assert.equal(attrs.email_verified, 'true');
  });

  test('an admin-created user: newPasswordRequired, then completeNewPasswordChallenge', async () => {
    const username = uniqueName('newpw');
    const email = `${username}@example.com`;
    const temporary = 'Temp-Pass-123';
    await api('AdminCreateUser', {
      UserPoolId: poolId,
      Username: username,
      TemporaryPassword: temporary,
      MessageAction: 'SUPPRESS',
      UserAttributes: [{ Name: 'email', Value: email }],
    });
    const user = cognitoUser(username);
    const first = await authenticate(user, username, temporary);
    assert.equal(first.kind, 'newPasswordRequired');
    assert.equal(first.userAttributes.email, email);
    const session = await new Promise((resolve, reject) => {
      user.completeNewPasswordChallenge(PASSWORD, {}, {
        onSuccess: resolve,
        onFailure: reject,
        mfaRequired: () => reject(new Error('unexpected mfaRequired')),
        mfaSetup: () => reject(new Error('unexpected mfaSetup')),
        totpRequired: () => reject(new Error('unexpected totpRequired')),
      });
    });
    assertSession(session, username);
    // The new password is now the password; the temporary one is not.
    assert.equal((await authenticate(cognitoUser(username), username, PASSWORD)).kind, 'success');
    await assert.rejects(authenticate(cognitoUser(username), username, temporary), { code: 'NotAuthorizedException' });
  });

  test('globalSignOut revokes the access and refresh tokens', async () => {
    const username = uniqueName('signout');
    await createConfirmedUser(username, `${username}@example.com`);
    const user = cognitoUser(username);
    const { session } = await authenticate(user, username, PASSWORD);
    const accessToken = session.getAccessToken().getJwtToken();
    const refreshToken = session.getRefreshToken().getToken();
    await new Promise((resolve, reject) => user.globalSignOut({ onSuccess: resolve, onFailure: reject }));

    await assert.rejects(api('GetUser', { AccessToken: accessToken }), (err) => {
      assert.equal(err.code, 'NotAuthorizedException');
      assert.equal(err.body.message, 'Access Token has been revoked');
      return true;
    });
    await assert.rejects(
      api('InitiateAuth', { ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: refreshToken } }),
      (err) => {
        assert.equal(err.code, 'NotAuthorizedException');
        return true;
      },
    );
  });
});
