// Cognito sign-in from the browser: SRP (USER_SRP_AUTH, the password never leaves the page) and the
// TOTP challenges (enrolment at first sign-in, then a code each time), with no library: BigInt for
// the SRP arithmetic, WebCrypto for SHA-256 / HMAC. The steps and constants are those of AWS's
// amazon-cognito-identity-js (AuthenticationHelper); tests/e2e/test_console_srp.py checks this file
// against pycognito's implementation with the same random values.
"use strict";

const SRP_N_HEX =
  "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
  "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
  "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
  "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
  "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
  "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
  "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
  "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";
const SRP_N = BigInt("0x" + SRP_N_HEX);
const SRP_G = 2n;
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const utf8 = (text) => new TextEncoder().encode(text);
const big = (hex) => BigInt("0x" + hex);
function padHex(value) {
  // AuthenticationHelper.padHex: even length, and a leading 00 when the top bit is set (positive).
  let hex = typeof value === "string" ? value : value.toString(16);
  if (hex.length % 2 === 1) hex = "0" + hex;
  else if ("89abcdefABCDEF".includes(hex[0])) hex = "00" + hex;
  return hex;
}
function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
const bytesToHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }
async function hexHash(hex) { return bytesToHex(await sha256(hexToBytes(hex))); }
async function hmacSha256(key, message) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message));
}
function modPow(base, exponent, modulus) {
  let result = 1n;
  let b = ((base % modulus) + modulus) % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}
function secretBlockBytes(block) {
  // Cognito's SECRET_BLOCK is base64. moto's is a plain session id (moto checks no SRP proof).
  try { return Uint8Array.from(atob(block), (c) => c.charCodeAt(0)); } catch { return utf8(block); }
}
function cognitoTimestamp(d) {
  const two = (n) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

// SRP step 1: a (random, 128 bytes) and A = g^a mod N.
function srpStart(smallA) {
  let a = smallA;
  if (a === undefined) a = big(bytesToHex(crypto.getRandomValues(new Uint8Array(128))));
  const A = modPow(SRP_G, a, SRP_N);
  if (A % SRP_N === 0n) throw new Error("SRP: bad A");
  return { a, A };
}

// SRP step 2: the password claim signature for the PASSWORD_VERIFIER challenge.
async function srpSignature({ poolId, userIdForSrp, password, a, A, srpB, salt, secretBlock, timestamp }) {
  const B = big(srpB);
  if (B % SRP_N === 0n) throw new Error("SRP: bad B");
  const k = big(await hexHash(padHex(SRP_N) + padHex(SRP_G)));
  const u = big(await hexHash(padHex(A) + padHex(B)));
  if (u === 0n) throw new Error("SRP: bad u");
  const pool = poolId.split("_")[1];
  const userHash = bytesToHex(await sha256(utf8(`${pool}${userIdForSrp}:${password}`)));
  const x = big(await hexHash(padHex(big(salt)) + userHash));
  const S = modPow(B - k * modPow(SRP_G, x, SRP_N), a + u * x, SRP_N);
  // HKDF-SHA256: salt u, input S, info "Caldera Derived Key" + 0x01, 16 bytes.
  const prk = await hmacSha256(hexToBytes(padHex(u)), hexToBytes(padHex(S)));
  const key = (await hmacSha256(prk, concat(utf8("Caldera Derived Key"), new Uint8Array([1])))).slice(0, 16);
  const message = concat(utf8(pool), utf8(userIdForSrp), secretBlockBytes(secretBlock), utf8(timestamp));
  const signature = await hmacSha256(key, message);
  return btoa(String.fromCharCode(...signature));
}

// One call to the Cognito user pools API (in AWS: https://cognito-idp.<region>.amazonaws.com/;
// locally: the console server's /cognito pass-through to moto).
async function cognitoCall(endpoint, operation, body) {
  const resp = await fetch(endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(body),
  });
  const answer = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const kind = String(answer.__type || "").split("#").pop();
    const err = new Error(kind === "CodeMismatchException" || kind === "EnableSoftwareTokenMFAException"
      ? "That code did not match: enter the current code from your authenticator app."
      : "Sign-in failed: check the user name and password.");
    err.kind = kind;
    throw err;
  }
  return answer;
}

// The whole sign-in. `ask(kind, detail)` collects what the person types for a challenge:
// "totp" (a code), "totp-setup" (a code, after showing the secret) or "new-password".
async function cognitoSignIn(config, username, password, ask) {
  const call = (op, body) => cognitoCall(config.cognito_endpoint, op, { ClientId: config.client_id, ...body });
  const { a, A } = srpStart();
  let answer = await call("InitiateAuth", {
    AuthFlow: "USER_SRP_AUTH",
    AuthParameters: { USERNAME: username, SRP_A: A.toString(16) },
  });
  let user = username;
  for (let step = 0; step < 6 && !answer.AuthenticationResult; step++) {
    const params = answer.ChallengeParameters || {};
    const session = answer.Session;
    let responses;
    if (answer.ChallengeName === "PASSWORD_VERIFIER") {
      user = params.USERNAME || params.USER_ID_FOR_SRP;
      const timestamp = cognitoTimestamp(new Date());
      const signature = await srpSignature({
        poolId: config.user_pool_id, userIdForSrp: params.USER_ID_FOR_SRP, password, a, A,
        srpB: params.SRP_B, salt: params.SALT, secretBlock: params.SECRET_BLOCK, timestamp,
      });
      responses = { USERNAME: user, PASSWORD_CLAIM_SECRET_BLOCK: params.SECRET_BLOCK, TIMESTAMP: timestamp,
        PASSWORD_CLAIM_SIGNATURE: signature };
    } else if (answer.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      responses = { USERNAME: user, NEW_PASSWORD: await ask("new-password") };
    } else if (answer.ChallengeName === "SOFTWARE_TOKEN_MFA") {
      responses = { USERNAME: user, SOFTWARE_TOKEN_MFA_CODE: await ask("totp") };
    } else if (answer.ChallengeName === "MFA_SETUP") {
      const assoc = await cognitoCall(config.cognito_endpoint, "AssociateSoftwareToken", { Session: session });
      const label = encodeURIComponent(`${config.totp_issuer || "medbill"}:${username}`);
      const uri = `otpauth://totp/${label}?secret=${assoc.SecretCode}&issuer=${encodeURIComponent(config.totp_issuer || "medbill")}`;
      const code = await ask("totp-setup", { secret: assoc.SecretCode, uri });
      const verified = await cognitoCall(config.cognito_endpoint, "VerifySoftwareToken",
        { Session: assoc.Session, UserCode: code, FriendlyDeviceName: "medbill console" });
      answer = await call("RespondToAuthChallenge",
        { ChallengeName: "MFA_SETUP", Session: verified.Session, ChallengeResponses: { USERNAME: user } });
      continue;
    } else {
      throw new Error(`Sign-in needs ${answer.ChallengeName}, which the console does not handle.`);
    }
    answer = await call("RespondToAuthChallenge",
      { ChallengeName: answer.ChallengeName, Session: session, ChallengeResponses: responses });
  }
  if (!answer.AuthenticationResult) throw new Error("Sign-in did not finish.");
  return answer.AuthenticationResult;
}
