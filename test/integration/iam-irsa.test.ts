/**
 * IRSA (opt-in, --revoke-pod-roles): a pod's service-account role is revoked like an instance
 * profile's, and the plan names every service account annotated with the same role. Real
 * kube-apiserver (as a service account bound only to the shipped roles) and moto's IAM.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { executePlan, planCapture } from '../../src/index.js';
import { userAgent } from '../../src/core/tool-info.js';
import { createIamClients } from '../../providers/iam/client.js';
import { iamProvider } from '../../providers/iam/index.js';
import { kubernetesProvider } from '../../providers/kubernetes/index.js';
import type { Provider } from '../../src/core/types.js';
import { motoEnv, testIncident } from '../support/aws.js';
import {
  ok,
  readRole,
  seedNamespace,
  serviceAccountKubeconfig,
  useKubeServer,
  waitForPermission,
} from '../support/kubernetes.js';

const kube = useKubeServer();
const providers = [kubernetesProvider, iamProvider] as unknown as Provider[];
const config = () => ({
  region: 'us-east-1',
  endpoint: inject('motoEndpoint'),
  maxAttempts: 1,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  customUserAgent: userAgent(),
  requestHandler: { connectionTimeout: 5_000, socketTimeout: 30_000 },
});
/** Bound to capture-role.yaml and irsa-role.yaml; and one bound to capture-role.yaml alone. */
let withIrsa: string;
let captureOnly: string;

beforeAll(async () => {
  withIrsa = await serviceAccountKubeconfig(kube(), 'holdfast-irsa', [
    readRole('capture-role.yaml'),
    readRole('irsa-role.yaml'),
  ]);
  captureOnly = await serviceAccountKubeconfig(kube(), 'holdfast-plain', [readRole('capture-role.yaml')]);
  await waitForPermission(withIrsa, { group: '', resource: 'serviceaccounts', verb: 'list' }, true);
});

describe('IRSA pod roles', () => {
  it('revokes the pod role only with --revoke-pod-roles, naming every service account on the role', async () => {
    const s = Math.random().toString(16).slice(2, 8);
    const iam = new IAMClient(config());
    const roleArn = (
      await iam.send(
        new CreateRoleCommand({
          RoleName: `pod-${s}`,
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Federated: 'oidc' }, Action: 'sts:AssumeRoleWithWebIdentity' }],
          }),
        }),
      )
    ).Role!.Arn!;
    const [shop, jobs] = [`shop-${s}`, `jobs-${s}`];
    await seedNamespace(kube(), shop);
    await seedNamespace(kube(), jobs);
    const sa = (ns: string, name: string, role?: string) =>
      ok(kube(), 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, {
        metadata: { name, ...(role ? { annotations: { 'eks.amazonaws.com/role-arn': role } } : {}) },
      });
    await sa(shop, 'api', roleArn);
    await sa(jobs, 'worker', roleArn);
    await sa(jobs, 'other', 'arn:aws:iam::123456789012:role/someone-else');
    await ok(kube(), 'POST', `/api/v1/namespaces/${shop}/pods`, {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { serviceAccountName: 'api', containers: [{ name: 'app', image: 'nginx' }] },
    });
    const env = motoEnv();
    const iamClients = createIamClients(config());
    const dir = mkdtempSync(join(tmpdir(), 'hf-irsa-'));
    const incident = testIncident('IRSA');

    // Without the opt-in, no service account is read (the capture role alone suffices) and nothing is revoked.
    const plain = await planCapture(
      {
        incident,
        forensicAccess: false,
        store: join(dir, 'es'),
        targets: { kubernetes: { pods: [`${shop}/web`], kubeconfig: captureOnly } },
      },
      // A fresh clients object per case: built clients are kept per object, and each case names its own kubeconfig.
      { providers, env, clients: { iam: iamClients } },
    );
    expect(plain.steps.filter((st) => st.provider === 'iam')).toEqual([]);

    const plan = await planCapture(
      {
        incident,
        forensicAccess: false,
        store: join(dir, 'es'),
        targets: { kubernetes: { pods: [`${shop}/web`], kubeconfig: withIrsa }, iam: { revokePodRoles: true } },
      },
      { providers, env, clients: { iam: iamClients } },
    );
    const revoke = plan.steps.find((st) => st.id === `iam:revoke-sessions/role/pod-${s}`)!;
    expect(revoke.title).toContain(`also cuts pods of service accounts ${jobs}/worker, ${shop}/api`);
    expect(revoke.title).not.toContain('other');
    const record = plan.steps.find((st) => st.id === `iam:record/role/pod-${s}`)!;
    expect(record.title).toContain(`IRSA of ${shop}/web`);

    const outcome = await executePlan(plan, { providers, env, clients: { iam: iamClients }, stateDir: dir });
    expect(outcome.failures.filter((f) => f.stepId.startsWith('iam:'))).toEqual([]);
    const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: `pod-${s}` }))).AttachedPolicies;
    expect(attached?.map((p) => p.PolicyArn)).toEqual([
      `arn:aws:iam::123456789012:policy/holdfast/holdfast-revoke-${incident}-pod-${s}`,
    ]);
  });

  it('names irsa-role.yaml when the service accounts cannot be listed', async () => {
    const s = Math.random().toString(16).slice(2, 8);
    await seedNamespace(kube(), `shop-${s}`);
    await ok(kube(), 'POST', `/api/v1/namespaces/shop-${s}/pods`, {
      metadata: { name: 'web' },
      spec: { containers: [{ name: 'app', image: 'nginx' }] },
    });
    const dir = mkdtempSync(join(tmpdir(), 'hf-irsa-'));
    await expect(
      planCapture(
        {
          incident: testIncident('IRSAX'),
          forensicAccess: false,
          store: join(dir, 'es'),
          targets: { kubernetes: { pods: [`shop-${s}/web`], kubeconfig: captureOnly }, iam: { revokePodRoles: true } },
        },
        { providers, env: motoEnv(), clients: { iam: createIamClients(config()) } },
      ),
    ).rejects.toThrow(/k8s:list serviceaccounts.*policies\/kubernetes\/irsa-role.yaml/);
  });
});
