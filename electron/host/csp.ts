// The Content-Security-Policy of the app's page, for both hosts: our own files only, no inline
// script, no eval, no plugins, no framing. The headless host adds its WebSocket origin.

export function contentSecurityPolicy(options: { websocketOrigin?: string } = {}): string {
  const ws = options.websocketOrigin ? ` ${options.websocketOrigin}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${ws}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
