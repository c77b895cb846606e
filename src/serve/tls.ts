/**
 * TLS for `tributary serve`: reading the certificate and key with errors that name the file and
 * what is wrong, and the client side the CLI uses to reach its own server over HTTPS, trusting
 * exactly the certificate the server was started with (pinned), not the system's CAs or none.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { TributaryError } from '../core/index.js';

export interface TlsFiles {
  /** Absolute path of the certificate (PEM; the server's first, then any chain). */
  certPath: string;
  cert: Buffer;
  key: Buffer;
}

async function readPem(path: string, what: string, from: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new TributaryError(
      `cannot read the TLS ${what} ${path} (${from}): ${(err as Error).message}`,
      {
        code: 'CONFIG',
        hint: `give a PEM file; e.g. openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 365 -subj /CN=localhost`,
      },
    );
  }
}

/**
 * Reads a certificate and its private key and checks they are PEM and belong together, so a
 * mistake is one clear message at start instead of failed handshakes later.
 */
export async function loadTlsFiles(
  certPath: string,
  keyPath: string,
  from: string,
): Promise<TlsFiles> {
  const cert = await readPem(certPath, 'certificate', from);
  const key = await readPem(keyPath, 'key', from);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TributaryError(`${certPath} is not a PEM certificate: ${(err as Error).message}`, {
      code: 'CONFIG',
      hint: 'it should begin with -----BEGIN CERTIFICATE-----',
    });
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(key);
  } catch (err) {
    throw new TributaryError(
      `${keyPath} is not an unencrypted PEM private key: ${(err as Error).message}`,
      {
        code: 'CONFIG',
        hint: 'it should begin with -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY)',
      },
    );
  }
  if (!x509.checkPrivateKey(keyObject))
    throw new TributaryError(`the key ${keyPath} does not belong to the certificate ${certPath}`, {
      code: 'CONFIG',
      hint: 'give the key the certificate was made for',
    });
  return { certPath, cert, key };
}

/**
 * TLS options for a client that trusts one server certificate, read from its PEM file: the
 * connection succeeds only when the server presents exactly that certificate (its SHA-256
 * fingerprint), whatever the host name it was reached by. Other HTTPS connections keep Node's
 * default verification.
 */
export async function pinnedTlsOptions(certPath: string): Promise<ConnectionOptions> {
  const pem = await readFile(certPath);
  const pinned = new X509Certificate(pem).fingerprint256;
  return {
    ca: pem,
    // The pinned certificate is the trust anchor even when a CA issued it.
    allowPartialTrustChain: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      cert.fingerprint256 === pinned
        ? undefined
        : new Error(
            `the server presented certificate ${cert.fingerprint256}, not ${pinned} from ${certPath}`,
          ),
  } as ConnectionOptions;
}
