// Amplify v6's passkey API in the page, driven by test_browser_passkeys.py: each function
// returns a plain JSON-able result the test asserts on.
import { Amplify } from "aws-amplify";
import {
  associateWebAuthnCredential,
  fetchAuthSession,
  listWebAuthnCredentials,
  signIn,
  signOut,
} from "aws-amplify/auth";

window.amplifyPasskeys = {
  configure(userPoolId, userPoolClientId, userPoolEndpoint) {
    Amplify.configure({ Auth: { Cognito: { userPoolId, userPoolClientId, userPoolEndpoint } } });
    return true;
  },
  async signInWithPassword(username, password) {
    const out = await signIn({ username, password });
    return { isSignedIn: out.isSignedIn, step: out.nextStep.signInStep };
  },
  async register() {
    await associateWebAuthnCredential();
    return true;
  },
  async list() {
    const out = await listWebAuthnCredentials();
    return out.credentials.map((c) => ({ id: c.credentialId, rp: c.relyingPartyId, name: c.friendlyCredentialName }));
  },
  async signOut() {
    await signOut();
    return true;
  },
  async signInWithPasskey(username) {
    const out = await signIn({ username, options: { authFlowType: "USER_AUTH", preferredChallenge: "WEB_AUTHN" } });
    const session = await fetchAuthSession();
    return {
      isSignedIn: out.isSignedIn,
      step: out.nextStep.signInStep,
      username: session.tokens?.idToken?.payload["cognito:username"] ?? null,
    };
  },
};
