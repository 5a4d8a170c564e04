/**
 * Plain AWS client settings shared by every AWS provider. No SDK is imported here: each provider's
 * client.ts builds its own clients from this config.
 */
import { userAgent } from '../core/tool-info.js';
import type { Case, ProviderContext } from '../core/types.js';
import { awsMaxAttempts } from '../core/test-seam.js';

export const DEFAULT_REGION = 'us-east-1';
/** Seconds to establish a connection (AWS endpoints answer a TCP connect in well under a second). */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;
/**
 * Seconds a call may be silent (no byte sent or received) before it fails as a retryable timeout.
 * Idle time, not total: a large upload that keeps moving is never cut. 60 s, as boto3's read timeout.
 */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 60;
/** Overrides the default request timeout (seconds) for a whole environment: emulators on busy test machines. */
export const REQUEST_TIMEOUT_ENV = 'HOLDFAST_REQUEST_TIMEOUT';

/** AWS credentials as the SDK takes them: static keys, or a function that returns them (and refreshes). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type AwsCredentialSource = AwsCredentials | (() => Promise<AwsCredentials>);

declare module '../core/types.js' {
  interface Clients {
    /** Credentials for every AWS provider's clients (set by --assume-role; the store keeps the caller's own). */
    'aws:credentials'?: AwsCredentialSource;
  }
}

export interface AwsClientConfig {
  region: string;
  /** Set when AWS_ENDPOINT_URL points at an emulator; S3 then needs path-style addressing. */
  endpoint?: string;
  forcePathStyle?: boolean;
  maxAttempts?: number;
  /** Credentials provider for --assume-role, when one was built by src/aws/client.ts. */
  credentials?: AwsCredentialSource;
  /** Appended to the SDK's own User-Agent, so CloudTrail's userAgent names holdfast and its version. */
  customUserAgent: string;
  /** Node HTTP handler options: every call is bounded (a black-holed call fails as TimeoutError). */
  requestHandler: { connectionTimeout: number; socketTimeout: number };
}

/** Region from the case, then the usual AWS environment, then us-east-1. */
export function resolveRegion(region: string | undefined, env: NodeJS.ProcessEnv): string {
  return region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? DEFAULT_REGION;
}

/** Node major version the AWS SDK's releases from January 2027 require. */
export const SDK_MIN_NODE_MAJOR = 22;

let sdkNotice: string | undefined | null = null;

/**
 * The AWS SDK prints its own Node-version notice to stderr, and a library must never write to the
 * terminal. Turn it off with the SDK's documented switch (it reads only process.env) and keep the
 * text once, so executePlan passes it on as an event. Undefined when there is nothing to say or the
 * caller had already turned the notice off.
 */
export function quietSdkNodeNotice(): string | undefined {
  if (sdkNotice === null) {
    const major = Number(process.versions.node.split('.')[0]);
    const off = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED === 'true';
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    sdkNotice =
      !off && major < SDK_MIN_NODE_MAJOR
        ? `AWS SDK releases from January 2027 need Node ${SDK_MIN_NODE_MAJOR} or newer; this is Node ${process.versions.node}`
        : undefined;
  }
  return sdkNotice;
}

/**
 * Client config for a provider context; tests and emulators are found through the environment. Only
 * the case's region and timeouts are read, so callers outside a capture (signer, store) pass just those.
 */
export function awsClientConfig(
  ctx: Pick<ProviderContext, 'env' | 'clients'> & { kase: Pick<Case, 'region' | 'connectTimeout' | 'requestTimeout'> },
): AwsClientConfig {
  quietSdkNodeNotice();
  const connectSeconds = ctx.kase.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_SECONDS;
  const envSeconds = Number(ctx.env[REQUEST_TIMEOUT_ENV]);
  const requestSeconds =
    ctx.kase.requestTimeout ?? (envSeconds > 0 ? envSeconds : undefined) ?? DEFAULT_REQUEST_TIMEOUT_SECONDS;
  const endpoint = ctx.env.AWS_ENDPOINT_URL;
  const maxAttempts = awsMaxAttempts(ctx.env);
  // Static keys in the context's env win over the SDK's default chain, so a caller (the drill, a
  // daemon serving several accounts) can hand each capture its own environment.
  const fromEnv =
    ctx.env !== process.env && ctx.env.AWS_ACCESS_KEY_ID && ctx.env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: ctx.env.AWS_ACCESS_KEY_ID,
          secretAccessKey: ctx.env.AWS_SECRET_ACCESS_KEY,
          ...(ctx.env.AWS_SESSION_TOKEN ? { sessionToken: ctx.env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  const credentials = ctx.clients['aws:credentials'] ?? fromEnv;
  return {
    region: resolveRegion(ctx.kase.region, ctx.env),
    customUserAgent: userAgent(),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(maxAttempts ? { maxAttempts } : {}),
    ...(credentials ? { credentials } : {}),
    requestHandler: { connectionTimeout: connectSeconds * 1000, socketTimeout: requestSeconds * 1000 },
  };
}
