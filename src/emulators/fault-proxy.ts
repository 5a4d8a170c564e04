/**
 * A small HTTP proxy in front of the AWS emulator that injects the network faults a server cannot
 * produce on demand: throttling answers (per service), "forward then drop the connection" (the call
 * happened, its answer is lost), "drop before forwarding", a call that hangs, and latency. Faults are
 * chosen by rules with a seeded random source, so a run can be repeated. Tests and benches only.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** What a rule does to a matching request. */
export type FaultKind = 'throttle' | 'forward-then-drop' | 'drop-before-forward' | 'hang' | 'latency';

export interface FaultRule {
  fault: FaultKind;
  /** SigV4 service name (ec2, rds, s3, sts, autoscaling, elasticloadbalancing…); any when absent. */
  service?: string;
  /** Query-protocol Action (CreateSnapshots…) or, for S3, the HTTP method; any when absent. */
  action?: string | RegExp;
  /** Chance that a matching request is hit (seeded); 1 when absent. */
  probability?: number;
  /** How many times the rule fires at most; unlimited when absent. */
  times?: number;
  /** For `latency`: milliseconds added before forwarding. */
  latencyMs?: number;
}

/** One request as the proxy saw it. */
export interface ProxiedCall {
  service: string;
  action: string;
  /** The fault applied, if any. */
  fault?: FaultKind;
  /** Whether the request reached the emulator. */
  forwarded: boolean;
  /** The decoded form body of query-protocol calls (ids of what a mutating call changed). */
  params: Record<string, string>;
  /** When the proxy received it (performance.now(), ms): a call timeline for benches. */
  receivedAt?: number;
  /** How long the emulator took to answer it (ms), when forwarded. */
  upstreamMs?: number;
}

export interface FaultProxy {
  endpoint: string;
  calls: ProxiedCall[];
  /** Replace the rules (the counts of `times` start again). */
  setRules(rules: FaultRule[]): void;
  /** Calls of `action` that reached the emulator. */
  forwarded(action: string): ProxiedCall[];
  close(): Promise<void>;
}

/** mulberry32: a tiny seeded PRNG, enough to make fault choices repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function serviceOf(req: IncomingMessage): string {
  const auth = String(req.headers.authorization ?? '');
  return /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? 'unknown';
}

function paramsOf(body: Buffer, url: string): Record<string, string> {
  const out: Record<string, string> = {};
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  for (const text of [query, body.toString('utf8')]) {
    if (!text.includes('=') || text.trimStart().startsWith('<') || text.trimStart().startsWith('{')) continue;
    for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  }
  return out;
}

/** The throttling answer each service gives (EC2: 503 RequestLimitExceeded; S3: 503 SlowDown; query APIs: 400 Throttling). */
function throttle(res: ServerResponse, service: string): void {
  if (service === 'ec2') {
    res.writeHead(503, { 'content-type': 'text/xml' });
    res.end(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>',
    );
  } else if (service === 's3') {
    res.writeHead(503, { 'content-type': 'application/xml' });
    res.end(
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault-proxy</RequestId></Error>',
    );
  } else {
    res.writeHead(400, { 'content-type': 'text/xml' });
    res.end(
      '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>',
    );
  }
}

/** A token bucket the proxy enforces like AWS: a request finding it empty is throttled, not queued. */
export interface ProxyBucket {
  capacity: number;
  perSecond: number;
}

/** Start a proxy on a free loopback port that forwards to `target` (e.g. the moto endpoint). */
export async function startFaultProxy(
  target: string,
  options: {
    seed?: number;
    rules?: FaultRule[];
    /** Per-API token buckets to enforce (EC2-like rate limits); none when absent or undefined for an API. */
    buckets?: (service: string, action: string) => ProxyBucket | undefined;
  } = {},
): Promise<FaultProxy> {
  const buckets = new Map<string, { limit: ProxyBucket; tokens: number; last: number }>();
  /** False when the API's bucket is empty (the request is throttled). */
  const takeToken = (service: string, action: string): boolean => {
    const limit = options.buckets?.(service, action);
    if (!limit) return true;
    const key = `${service}:${action}`;
    const now = performance.now();
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = { limit, tokens: limit.capacity, last: now }));
    b.tokens = Math.min(limit.capacity, b.tokens + ((now - b.last) / 1000) * limit.perSecond);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
  const upstream = new URL(target);
  const random = seededRandom(options.seed ?? 1);
  let rules: { rule: FaultRule; fired: number }[] = [];
  const setRules = (next: FaultRule[]) => void (rules = next.map((rule) => ({ rule, fired: 0 })));
  setRules(options.rules ?? []);
  const calls: ProxiedCall[] = [];
  const sockets = new Set<Socket>();

  const choose = (service: string, action: string): FaultRule | undefined => {
    for (const r of rules) {
      const { rule } = r;
      if (rule.service && rule.service !== service) continue;
      if (rule.action && !(typeof rule.action === 'string' ? rule.action === action : rule.action.test(action)))
        continue;
      if (rule.times !== undefined && r.fired >= rule.times) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      r.fired++;
      return rule;
    }
    return undefined;
  };

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: object; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const service = serviceOf(req);
        const params = paramsOf(body, req.url ?? '');
        const action = params.Action ?? (service === 's3' ? String(req.method) : 'unknown');
        const rule: FaultRule | undefined = takeToken(service, action)
          ? choose(service, action)
          : { fault: 'throttle' };
        const call: ProxiedCall = {
          service,
          action,
          forwarded: false,
          params,
          receivedAt: performance.now(),
          ...(rule ? { fault: rule.fault } : {}),
        };
        calls.push(call);
        switch (rule?.fault) {
          case 'throttle':
            return throttle(res, service);
          case 'drop-before-forward':
            return void req.socket.destroy();
          case 'hang':
            return; // never answered; the client's timeout must end it
          case 'latency':
            await new Promise((r) => setTimeout(r, rule.latencyMs ?? 1000));
            break;
          default:
            break;
        }
        try {
          const sent = performance.now();
          const answer = await forward(req, body);
          call.upstreamMs = performance.now() - sent;
          call.forwarded = true;
          // The emulator did the work; the caller never hears of it.
          if (rule?.fault === 'forward-then-drop') return void req.socket.destroy();
          res.writeHead(answer.status, answer.headers as Record<string, string>);
          res.end(answer.body);
        } catch {
          req.socket.destroy();
        }
      })();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    setRules,
    forwarded: (action) => calls.filter((c) => c.forwarded && c.action === action),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
