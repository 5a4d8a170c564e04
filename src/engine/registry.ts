/**
 * The explicit list of providers and stores. No import side effects, no globals: add a provider
 * by importing it here and putting it in the array.
 */
import { dumpProvider } from '../../providers/dump/index.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import { createFsStore } from '../../providers/fs-store/index.js';
import { iamProvider } from '../../providers/iam/index.js';
import { kubernetesProvider } from '../../providers/kubernetes/index.js';
import { rdsProvider } from '../../providers/rds/index.js';
import { createS3Store, S3_STORE_POLICY } from '../../providers/s3-store/index.js';
import { KMS_SIGNER_POLICY } from '../../providers/kms-signer/index.js';
import { awsClientConfig, type AwsClientConfig } from '../aws/config.js';
import { awsCredentials } from '../aws/credentials.js';
import { describeError, toHoldfastError, type HoldfastError, type InputProblem } from '../core/errors.js';
import type {
  Case,
  Clients,
  CloudSettings,
  CredentialKind,
  CredentialKit,
  EvidenceStore,
  JsonObject,
  Provider,
  ProviderContext,
  StoreSpec,
} from '../core/types.js';

/** Every capture provider holdfast ships, in planning order. */
export const builtinProviders: readonly Provider[] = [
  ec2Provider,
  rdsProvider,
  dumpProvider,
  kubernetesProvider,
  iamProvider,
];

/** How the engine handles each kind of cloud credentials a provider or store may declare. */
export const credentialKits: Readonly<Record<CredentialKind, CredentialKit>> = { aws: awsCredentials };

/** The credentials a store kind needs (an S3 bucket is reached with AWS credentials). */
function storeCredentials(spec: StoreSpec): CredentialKind | undefined {
  return spec.kind === 's3' ? 'aws' : undefined;
}

/** The credential kinds a run uses: the store's and those of the providers that have steps in it. */
export function credentialKindsOf(kase: Case, providers: readonly (Provider | undefined)[]): CredentialKind[] {
  const kinds = new Set<CredentialKind>();
  const store = storeCredentials(kase.store);
  if (store) kinds.add(store);
  for (const p of providers) if (p?.credentials) kinds.add(p.credentials);
  return [...kinds];
}

/** The clients providers get: the caller's, plus what each credential kit adds (e.g. an assumed role). */
export async function providerClients(kase: CloudSettings, env: NodeJS.ProcessEnv, clients: Clients): Promise<Clients> {
  let out = clients;
  for (const kit of Object.values(credentialKits)) out = await kit.providerClients(kase, env, out);
  return out;
}

/** Who is capturing in each cloud the run uses, merged. */
export async function cloudIdentity(
  ctx: Pick<ProviderContext, 'kase' | 'env' | 'clients'>,
  kinds: readonly CredentialKind[],
): Promise<JsonObject> {
  let who: JsonObject = {};
  for (const kind of kinds) who = { ...who, ...(await credentialKits[kind].identify(ctx)) };
  return who;
}

/** Any error as a HoldfastError, with every credential kit's knowledge of its cloud's errors. */
export function holdfastErrorOf(error: unknown): HoldfastError {
  return toHoldfastError(error, (e) => {
    for (const kit of Object.values(credentialKits)) {
      const known = kit.classifyError(e);
      if (known) return known;
    }
    return undefined;
  });
}

/** The short text of any error for events and the manifest, classified as `holdfastErrorOf` does. */
export function describeFailure(error: unknown): ReturnType<typeof describeError> {
  return describeError(holdfastErrorOf(error));
}

/** Problems with the case-level cloud settings (region, role), from every credential kit. */
export function cloudSettingProblems(input: { region?: unknown; assumeRole?: unknown }): InputProblem[] {
  return Object.values(credentialKits).flatMap((kit) => kit.caseProblems(input));
}

/** The store a case names, reached with the caller's own credentials (`clients`, not the providers' assumed role). */
export function storeForCase(kase: Case, env: NodeJS.ProcessEnv, clients: Clients): EvidenceStore {
  return createStore(kase.store, awsClientConfig({ kase, env, clients }), clients);
}

/** What else holdfast may call besides the providers, and the policy file granting each. */
export const builtinServices: readonly { id: string; summary: string; policies: string[]; when: string }[] = [
  {
    id: 's3-store',
    summary: 'evidence store on S3: write-once objects under Object Lock, read back by version',
    policies: [S3_STORE_POLICY],
    when: '--store s3://bucket/prefix',
  },
  {
    id: 'verify',
    summary: "an examiner's role for `evidence verify`: reads the store and versions, checks snapshots online",
    policies: ['policies/aws/verify.json'],
    when: 'evidence verify',
  },
  {
    id: 'kubernetes-owner-kinds',
    summary: 'optional: read custom owner kinds (CloneSet, Rollout…) so their selectors are recorded',
    policies: ['policies/kubernetes/owner-kinds-role.yaml'],
    when: 'pods owned by custom controllers',
  },
  {
    id: 'watch',
    summary:
      'the `evidence watch` daemon: receive findings from SQS, keep them invisible while working, remove them once sealed',
    policies: ['policies/aws/watch.json'],
    when: 'evidence watch (with the policies of the providers its rules use)',
  },
  {
    id: 'kms-signer',
    summary: 'signs the manifest digest with an AWS KMS ECC_NIST_P256 key',
    policies: [KMS_SIGNER_POLICY],
    when: '--sign-kms-key ARN',
  },
];

/** Build the evidence store a case names; `clients['s3-store']` may inject an S3 client. */
export function createStore(spec: StoreSpec, aws: AwsClientConfig, clients: Clients = {}): EvidenceStore {
  if (spec.kind === 'fs') return createFsStore(spec.dir);
  return createS3Store(spec, aws, clients['s3-store']);
}
