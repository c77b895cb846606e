/**
 * Masks secrets in text: a Redactor knows every secret value (and the encoded forms a request
 * carries them in) so errors and warnings can quote URLs, headers and bodies without leaking one.
 */
const MASK = '***';

/** Replaces every known secret (raw, URL-encoded or base64 as in Basic auth) with `***`. */
export class Redactor {
  private readonly values: string[] = [];

  /** Registers a secret; short values are still masked, since an empty mask would leak nothing anyway. */
  add(...secrets: string[]): this {
    for (const s of secrets) {
      if (!s) continue;
      for (const form of [
        s,
        encodeURIComponent(s),
        new URLSearchParams({ x: s }).toString().slice(2),
      ])
        if (form && !this.values.includes(form)) this.values.push(form);
    }
    // Longest first, so a secret containing another is masked whole.
    this.values.sort((a, b) => b.length - a.length);
    return this;
  }

  /** The text with every secret masked. */
  redact(text: string): string {
    let out = text;
    for (const v of this.values) out = out.split(v).join(MASK);
    return out;
  }
}
