/**
 * The AWS credential kit: what the engine does for providers that declare `credentials: 'aws'` (and
 * for an S3 evidence store) — check --region and --assume-role, assume the role, name the caller.
 */
import type { CredentialKit } from '../core/types.js';
import { providerClients } from './assume-role.js';
import { awsClientConfig } from './config.js';

const AWS_REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** AWS: region and role checks, assumed-role clients, STS caller identity. */
export const awsCredentials: CredentialKit = {
  kind: 'aws',
  caseProblems({ region, assumeRole }) {
    const problems: string[] = [];
    if (region !== undefined && (typeof region !== 'string' || !AWS_REGION_PATTERN.test(region)))
      problems.push(`--region: "${String(region)}" is not an AWS region name (e.g. eu-west-1)`);
    if (assumeRole !== undefined && (typeof assumeRole !== 'string' || !ROLE_ARN_PATTERN.test(assumeRole)))
      problems.push(
        `--assume-role: "${String(assumeRole)}" is not an IAM role ARN (arn:aws:iam::123456789012:role/name)`,
      );
    return problems;
  },
  providerClients,
  async identify(ctx) {
    // Loaded only when AWS is in play: the STS SDK costs memory a Kubernetes-only capture need not pay.
    const { callerIdentity } = await import('./identity.js');
    const who = await callerIdentity(awsClientConfig(ctx), ctx.clients['aws:sts'] as never);
    return {
      ...(who.arn
        ? { callerArn: who.arn, account: who.account ?? null }
        : { callerArn: null, identityError: who.error ?? 'unknown' }),
      ...(ctx.kase.assumeRole ? { assumedRole: ctx.kase.assumeRole } : {}),
    };
  },
};
