/**
 * The watch daemon's one SDK file: the SQS calls that receive findings, keep a message invisible
 * while its incident is worked on (a visibility heartbeat), hand it back, and remove it once the
 * seal is durable. The client is guarded in `queueConsumer` mode: DeleteMessage is the one deleting
 * call it may send (src/core/guard.ts).
 */
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import type { AwsClientConfig } from '../aws/config.js';
import { guardAwsClient } from '../aws/guard-client.js';

const sqsSdk = () => import('@aws-sdk/client-sqs');

export type { SQSClient };

/** A received message, as plain data. */
export interface QueueMessage {
  queueUrl: string;
  messageId: string;
  receiptHandle: string;
  body: string;
  /** How often SQS has handed it out (1 the first time); the redrive policy moves it on at maxReceiveCount. */
  receiveCount: number;
  /** When it was sent (ms since epoch), for queue lag. */
  sentAt?: number;
}

/** What the daemon needs of a queue. */
export interface QueueApi {
  receive(
    queueUrl: string,
    options: { max: number; waitSeconds: number; visibilitySeconds: number },
    signal?: AbortSignal,
  ): Promise<QueueMessage[]>;
  /** Keep the message invisible `seconds` more (0: visible at once, handing it back). */
  setVisibility(message: QueueMessage, seconds: number): Promise<void>;
  /** Remove a handled message (only after the incident's seal is durable). */
  remove(message: QueueMessage): Promise<void>;
  /** The queue's redrive policy (dead-letter queue) and its approximate depth. */
  describe(queueUrl: string): Promise<{
    redrive?: { deadLetterTargetArn: string; maxReceiveCount: number };
    visible: number;
    inFlight: number;
  }>;
}

/** SQS long-polls at most 20 seconds per ReceiveMessage. */
export const MAX_WAIT_SECONDS = 20;
/** SQS hands out at most 10 messages per ReceiveMessage. */
export const MAX_MESSAGES_PER_RECEIVE = 10;

/** A guarded SQS client behind the QueueApi. */
export function createQueueApi(config: AwsClientConfig, injected?: SQSClient): QueueApi {
  let client: SQSClient | undefined = injected;
  const sdk = sqsSdk();
  const get = async () => {
    const s = await sdk;
    client ??= guardAwsClient(new s.SQSClient(config as SQSClientConfig), { queueConsumer: true });
    return { s, c: client };
  };
  return {
    async receive(queueUrl, options, signal) {
      const { s, c } = await get();
      const out = await c.send(
        new s.ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(options.max, MAX_MESSAGES_PER_RECEIVE),
          WaitTimeSeconds: Math.min(options.waitSeconds, MAX_WAIT_SECONDS),
          VisibilityTimeout: options.visibilitySeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
        signal ? { abortSignal: signal } : {},
      );
      return (out.Messages ?? []).flatMap((m) =>
        m.ReceiptHandle && m.MessageId
          ? [
              {
                queueUrl,
                messageId: m.MessageId,
                receiptHandle: m.ReceiptHandle,
                body: m.Body ?? '',
                receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
                ...(m.Attributes?.SentTimestamp ? { sentAt: Number(m.Attributes.SentTimestamp) } : {}),
              },
            ]
          : [],
      );
    },
    async setVisibility(message, seconds) {
      const { s, c } = await get();
      await c.send(
        new s.ChangeMessageVisibilityCommand({
          QueueUrl: message.queueUrl,
          ReceiptHandle: message.receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    },
    async remove(message) {
      const { s, c } = await get();
      await c.send(new s.DeleteMessageCommand({ QueueUrl: message.queueUrl, ReceiptHandle: message.receiptHandle }));
    },
    async describe(queueUrl) {
      const { s, c } = await get();
      const out = await c.send(
        new s.GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['RedrivePolicy', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const a = out.Attributes ?? {};
      let redrive: { deadLetterTargetArn: string; maxReceiveCount: number } | undefined;
      if (a.RedrivePolicy) {
        const p = JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
        if (p.deadLetterTargetArn)
          redrive = { deadLetterTargetArn: p.deadLetterTargetArn, maxReceiveCount: Number(p.maxReceiveCount ?? 0) };
      }
      return {
        ...(redrive ? { redrive } : {}),
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    },
  };
}

/** An incident lease as stored: who holds it, its generation (fencing token) and when it was last renewed. */
export interface StoredLease {
  /** Empty when released. */
  holder: string;
  generation: number;
  /** When the holder last renewed it (ms since epoch). */
  renewedAt: number;
  durationSeconds: number;
  /** The backend's version for compare-and-swap (a Kubernetes resourceVersion). */
  version: string;
}

/** Compare-and-swap storage for leases; `create` and `replace` answer false when someone else wrote first. */
export interface LeaseApi {
  readonly description: string;
  read(name: string): Promise<StoredLease | undefined>;
  create(name: string, lease: Omit<StoredLease, 'version'>): Promise<boolean>;
  replace(name: string, lease: StoredLease): Promise<boolean>;
}

/**
 * Leases as coordination.k8s.io/v1 Lease objects: `leaseTransitions` + 1 is the generation, and
 * every write is a compare-and-swap on resourceVersion (etcd decides; a 409 means someone else won).
 * https://kubernetes.io/docs/concepts/architecture/leases/
 */
export async function createKubeLeaseApi(options: { namespace: string; kubeconfig?: string }): Promise<LeaseApi> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else kc.loadFromDefault();
  const api = kc.makeApiClient(k8s.CoordinationV1Api);
  const { namespace } = options;
  const status = (error: unknown) => (error as { code?: number }).code;
  const toStored = (l: import('@kubernetes/client-node').V1Lease): StoredLease => ({
    holder: l.spec?.holderIdentity ?? '',
    generation: (l.spec?.leaseTransitions ?? 0) + 1,
    renewedAt: l.spec?.renewTime ? new Date(l.spec.renewTime).getTime() : 0,
    durationSeconds: l.spec?.leaseDurationSeconds ?? 0,
    version: l.metadata?.resourceVersion ?? '',
  });
  const spec = (lease: Omit<StoredLease, 'version'>) => ({
    ...(lease.holder ? { holderIdentity: lease.holder } : {}),
    leaseDurationSeconds: lease.durationSeconds,
    leaseTransitions: lease.generation - 1,
    // MicroTime: the API server wants six fractional digits, which V1MicroTime writes and Date does not.
    renewTime: new k8s.V1MicroTime(lease.renewedAt),
    acquireTime: new k8s.V1MicroTime(lease.renewedAt),
  });
  return {
    description: `Kubernetes Leases in namespace ${namespace}`,
    async read(name) {
      try {
        return toStored(await api.readNamespacedLease({ name, namespace }));
      } catch (error) {
        if (status(error) === 404) return undefined;
        throw error;
      }
    },
    async create(name, lease) {
      try {
        await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: spec(lease) } });
        return true;
      } catch (error) {
        if (status(error) === 409) return false;
        throw error;
      }
    },
    async replace(name, lease) {
      try {
        await api.replaceNamespacedLease({
          name,
          namespace,
          body: { metadata: { name, namespace, resourceVersion: lease.version }, spec: spec(lease) },
        });
        return true;
      } catch (error) {
        if (status(error) === 409) return false;
        throw error;
      }
    },
  };
}
