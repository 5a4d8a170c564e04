/** Test helpers for the moto server started by global-setup. */
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';

/** Environment that points the real AWS SDK clients (and the CLI) at moto. */
export function motoEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ENDPOINT_URL: inject('motoEndpoint'),
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    HOLDFAST_AWS_MAX_ATTEMPTS: '1',
    ...extra,
  };
}

/** A unique incident id for one test, so tests never share state. */
export function testIncident(label = 'T'): string {
  return `IR-${label}-${randomBytes(4).toString('hex')}`;
}
