/**
 * A small HTTP proxy in front of moto that answers the few calls moto cannot (tests only, not
 * shipped): EC2 GetConsoleScreenshot (moto answers 500) with a real JPEG, and SSM
 * DescribeInstanceInformation (500 in moto) for the instances a stand-in SSM agent serves.
 * Everything else is forwarded unchanged (SigV4 signs the Host header; moto does not check it).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A real baseline JPEG (8×8, one grey component, DC-only): SOI, DQT, SOF0, two one-code Huffman
 * tables, SOS, one byte of scan data, EOI. `file` reads it as "JPEG image data, baseline, 8x8".
 */
export const CONSOLE_JPEG = Buffer.from(
  'ffd8ffdb0043000101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101' +
    'ffc0000b080008000801011100ffc40014000100000000000000000000000000000000ffc40014100100000000000000000000000000000000' +
    'ffda0008010100003f003fffd9',
  'hex',
);

/** One SSM-managed instance as DescribeInstanceInformation reports it. */
export interface ManagedInstance {
  instanceId: string;
  platformType: 'Linux' | 'Windows';
  pingStatus?: 'Online' | 'ConnectionLost' | 'Inactive';
}

export interface StandInProxy {
  endpoint: string;
  /** Every call seen, as `service:Action` (`s3:PUT` for S3), in order. */
  calls: string[];
  /** GetConsoleScreenshot requests' form parameters (to check WakeUp=false). */
  screenshotRequests: Record<string, string>[];
  /** Instances DescribeInstanceInformation lists (a stand-in agent registers here). */
  managed: Map<string, ManagedInstance>;
  /** What GetCommandInvocation answers for commands a stand-in agent ran (moto says Success at once). */
  invocations: Map<string, { status: string; stderr: string }>;
  close(): Promise<void>;
}

function serviceOf(req: IncomingMessage): string {
  return /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'unknown';
}

function answer(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Start the proxy on a free loopback port in front of `target` (the moto endpoint). */
export async function startStandInProxy(target: string): Promise<StandInProxy> {
  const upstream = new URL(target);
  const calls: string[] = [];
  const screenshotRequests: Record<string, string>[] = [];
  const managed = new Map<string, ManagedInstance>();
  const invocations = new Map<string, { status: string; stderr: string }>();
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const service = serviceOf(req);
      const form = service === 'ec2' ? Object.fromEntries(new URLSearchParams(body.toString('utf8'))) : {};
      const target = String(req.headers['x-amz-target'] ?? '');
      const action = form.Action ?? (target.split('.')[1] || req.method || '');
      calls.push(`${service}:${action}`);
      if (service === 'ec2' && action === 'GetConsoleScreenshot') {
        screenshotRequests.push(form);
        if (form.DryRun === 'true') {
          answer(
            res,
            412,
            'text/xml',
            '<Response><Errors><Error><Code>DryRunOperation</Code><Message>Request would have succeeded, but DryRun flag is set.</Message></Error></Errors><RequestID>stand-in</RequestID></Response>',
          );
          return;
        }
        answer(
          res,
          200,
          'text/xml',
          `<GetConsoleScreenshotResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>stand-in</requestId><instanceId>${form.InstanceId}</instanceId><imageData>${CONSOLE_JPEG.toString('base64')}</imageData></GetConsoleScreenshotResponse>`,
        );
        return;
      }
      if (service === 'ssm' && action === 'DescribeInstanceInformation') {
        const asked = JSON.parse(body.toString('utf8') || '{}') as { Filters?: { Key: string; Values: string[] }[] };
        const ids = asked.Filters?.find((f) => f.Key === 'InstanceIds')?.Values;
        const list = [...managed.values()]
          .filter((m) => !ids || ids.includes(m.instanceId))
          .map((m) => ({
            InstanceId: m.instanceId,
            PlatformType: m.platformType,
            PingStatus: m.pingStatus ?? 'Online',
          }));
        answer(res, 200, 'application/x-amz-json-1.1', JSON.stringify({ InstanceInformationList: list }));
        return;
      }
      if (service === 'ssm' && action === 'GetCommandInvocation') {
        const asked = JSON.parse(body.toString('utf8') || '{}') as { CommandId?: string; InstanceId?: string };
        const ran = invocations.get(asked.CommandId ?? '');
        if (ran) {
          answer(
            res,
            200,
            'application/x-amz-json-1.1',
            JSON.stringify({
              CommandId: asked.CommandId,
              InstanceId: asked.InstanceId,
              Status: ran.status,
              StandardErrorContent: ran.stderr,
            }),
          );
          return;
        }
      }
      // The body is sent whole: no 100-continue handshake upstream.
      const { expect: _continue, ...headers } = req.headers;
      const forward = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    screenshotRequests,
    managed,
    invocations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
