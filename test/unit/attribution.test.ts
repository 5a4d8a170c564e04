/** Issue 12: every request names holdfast and its version, so audit logs and CloudTrail attribute it. */
import { describe, expect, it } from 'vitest';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { awsClientConfig } from '../../src/aws/config.js';
import { toolInfo, userAgent } from '../../src/core/tool-info.js';
import type { Case } from '../../src/core/types.js';
import { createEc2Clients } from '../../providers/ec2/client.js';

const kase = { incident: 'IR-1', targets: {} } as unknown as Case;

describe('attribution', () => {
  it('the User-Agent is holdfast/<package version>', () => {
    expect(userAgent()).toBe(`holdfast/${String(toolInfo().version)}`);
    expect(userAgent()).toMatch(/^holdfast\/\d+\.\d+\.\d+/);
  });

  it('AWS SDK clients built from the shared config send it in their User-Agent', async () => {
    const { ec2 } = createEc2Clients(
      awsClientConfig({ kase, env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, clients: {} }),
    );
    let sent: Record<string, string> | undefined;
    // Read the request as it is about to leave (after the SDK's user-agent middleware), then stop it.
    ec2.middlewareStack.add(
      (_next) => async (args) => {
        sent = (args.request as { headers: Record<string, string> }).headers;
        throw new Error('stopped before sending');
      },
      { step: 'finalizeRequest', priority: 'low' },
    );
    await expect(ec2.send(new DescribeInstancesCommand({}))).rejects.toThrow('stopped before sending');
    expect(`${sent?.['user-agent']} ${sent?.['x-amz-user-agent']}`).toContain(userAgent());
  });
});
