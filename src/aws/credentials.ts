/**
 * The AWS credential kit: what the engine does for providers that declare `credentials: 'aws'` (and
 * for an S3 evidence store) — check the region and the role to assume, assume the role, name the caller,
 * classify AWS's errors (src/aws/errors.ts).
 */
import type { InputProblem } from '../core/errors.js';
import type { CredentialKit } from '../core/types.js';
import { providerClients } from './assume-role.js';
import { callerIdentity } from './client.js';
import { awsClientConfig } from './config.js';
import { awsErrorOrUndefined } from './errors.js';

const AWS_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** AWS: region and role checks, assumed-role clients, STS caller identity. */
export const awsCredentials: CredentialKit = {
  kind: 'aws',
  caseProblems({ region, assumeRole }) {
    const problems: InputProblem[] = [];
    if (region !== undefined && (typeof region !== 'string' || !AWS_REGION_PATTERN.test(region)))
      problems.push({ field: 'region', message: `"${String(region)}" is not an AWS region name (e.g. eu-west-1)` });
    if (assumeRole !== undefined && (typeof assumeRole !== 'string' || !ROLE_ARN_PATTERN.test(assumeRole)))
      problems.push({
        field: 'assumeRole',
        message: `"${String(assumeRole)}" is not an IAM role ARN (arn:aws:iam::123456789012:role/name)`,
      });
    return problems;
  },
  providerClients,
  async identify(ctx) {
    const who = await callerIdentity(awsClientConfig(ctx), ctx.clients['aws:sts']);
    return {
      ...(who.arn
        ? { callerArn: who.arn, account: who.account ?? null }
        : { callerArn: null, identityError: who.error ?? 'unknown' }),
      ...(ctx.kase.assumeRole ? { assumedRole: ctx.kase.assumeRole } : {}),
    };
  },
  classifyError: awsErrorOrUndefined,
  describeCalls: ({ calls, throttles, waitedMs }) =>
    `${calls} AWS calls, ${throttles} throttled (RequestLimitExceeded, retried), ${(waitedMs / 1000).toFixed(1)} s waiting for rate-limit tokens`,
};
