/**
 * Undo one recorded IAM containment exactly: detach holdfast's revocation policy (it stays, tagged,
 * as a record) or reactivate a key holdfast deactivated. A revocation someone changed since is
 * left as it is and named. Nothing is deleted.
 */
import { canonicalJson } from '../../src/evidence/canonical-json.js';
import { isNotFound } from '../../src/aws/errors.js';
import { InternalError } from '../../src/core/errors.js';
import type { ChangeRecord, ReleaseContext } from '../../src/core/types.js';
import { accessKeys, attachedPolicyArns, detachRevocationPolicy, findPolicy, setAccessKeyStatus } from './client.js';
import { iamClientsFor } from './context.js';
import { nameOfArn } from './discover.js';

/** Undo one recorded IAM change. */
export async function releaseIam(
  change: ChangeRecord,
  ctx: ReleaseContext,
): Promise<{ restored: boolean; note?: string }> {
  const c = iamClientsFor(ctx);
  switch (change.attribute) {
    case 'revocationPolicy': {
      const roleName = nameOfArn(change.resource);
      const { policyArn, document } = change.after as { policyArn: string; document: unknown };
      const attached = await attachedPolicyArns(c, roleName);
      if (!attached) return { restored: false, note: `role ${roleName} no longer exists` };
      if (!attached.includes(policyArn))
        return {
          restored: true,
          note: `${nameOfArn(policyArn)} was already detached from ${roleName}; nothing to undo`,
        };
      const now = await findPolicy(c, policyArn);
      if (!now || canonicalJson(now.document) !== canonicalJson(document))
        return {
          restored: false,
          note: `role ${roleName}: revocation policy ${policyArn} was changed since capture (default version ${now?.defaultVersionId ?? 'gone'}, not the document holdfast attached); left attached — detach it by hand if that is intended`,
        };
      await detachRevocationPolicy(c, roleName, policyArn);
      return {
        restored: true,
        note: `role ${roleName}: ${nameOfArn(policyArn)} detached; the policy stays, tagged, as a record`,
      };
    }
    case 'accessKeyStatus': {
      const [, userName, , keyId] = change.resource.split('/') as [string, string, string, string];
      const keys = await accessKeys(c, userName).catch((error: Error) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      const key = keys?.find((k) => k.id === keyId);
      if (!key) return { restored: false, note: `access key ${keyId} of user ${userName} no longer exists` };
      if (key.status === 'Active')
        return { restored: true, note: `access key ${keyId} of ${userName} was already active` };
      await setAccessKeyStatus(c, userName, keyId, 'Active');
      return { restored: true, note: `access key ${keyId} of ${userName} active again` };
    }
    default:
      throw new InternalError(`iam cannot release ${change.attribute} of ${change.resource}`);
  }
}
