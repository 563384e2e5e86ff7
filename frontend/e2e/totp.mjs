// RFC 6238 TOTP (SHA-1, 6 digits, 30-second steps) over RFC 4226 HOTP, for signing in as a
// user with MFA in the browser tests. Checked against the RFC's published test vectors.
import { createHmac } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 (no padding needed) to bytes. */
export function base32Decode(text) {
  const clean = text.replace(/=+$/, "").replace(/\s+/g, "").toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const char of clean) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function hotp(key, counter, digits = 6, algorithm = "sha1") {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac(algorithm, key).update(message).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

export function timeStep(nowMs = Date.now(), period = 30) {
  return Math.floor(nowMs / 1000 / period);
}

export function totp(secretBase32, nowMs = Date.now(), digits = 6, period = 30) {
  return hotp(base32Decode(secretBase32), timeStep(nowMs, period), digits);
}

/** The secret of an otpauth:// URI. */
export function secretFromUri(uri) {
  const secret = new URL(uri).searchParams.get("secret");
  if (!secret) throw new Error(`no secret in ${uri}`);
  return secret;
}

/**
 * A code for a time step after `usedStep`: the server accepts each step once, so a second
 * sign-in within the same 30 seconds must wait for the next step.
 */
export async function freshCode(secret, usedStep) {
  while (usedStep !== undefined && timeStep() <= usedStep) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { code: totp(secret), step: timeStep() };
}
