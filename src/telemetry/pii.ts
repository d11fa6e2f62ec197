// Defence in depth for telemetry: the gateway never puts input text in spans, logs or metrics, but
// attributes set by libraries (URLs, query strings) are masked before they leave the process.

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
/** Phone-like runs: 7+ digits with optional separators and leading +. */
const PHONE = /\+?\d[\d\s().-]{5,}\d/g;

export function maskPii(value: string): string {
  return value.replace(EMAIL, '[email]').replace(PHONE, '[phone]');
}

/** A URL or path without its query string (GET /graphql carries the whole query there). */
export function stripQuery(value: string): string {
  const at = value.indexOf('?');
  return at < 0 ? value : `${value.slice(0, at)}?[redacted]`;
}
