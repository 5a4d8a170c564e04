/** The IAM provider's params and discovered facts: plain data. */
import type { JsonObject } from '../../src/core/types.js';

/** Policy file that grants everything this provider calls. */
export const IAM_POLICY = 'policies/aws/iam.json';

/** The IAM provider's validated params (flags, case file, or derived from other providers' targets). */
export interface IamParams extends JsonObject {
  /** Roles named directly (--iam-role): recorded, and their sessions revoked. */
  roles: string[];
  /** Users named directly (--iam-user): recorded, and their active access keys deactivated. */
  users: string[];
  /** Derived from EC2 targets: `i-…=<instance profile ARN>`. */
  instanceProfiles: string[];
  /** Derived from Kubernetes targets: `namespace/pod=<role ARN>` (IRSA, eks.amazonaws.com/role-arn). */
  podRoles: string[];
  /** Derived from Kubernetes targets: every service account annotated with a pod role, `namespace/name=<role ARN>`. */
  podRoleServiceAccounts: string[];
  /** Revoke the sessions of the roles behind targeted instances at any severity (implied at high). */
  revokeRoleSessions: boolean;
  /** Opt-in: revoke the sessions of the IRSA roles of targeted pods. */
  revokePodRoles: boolean;
}

/** Why a role is in the plan, for titles and the record. */
export type RoleReason = {
  kind: 'named' | 'instance-profile' | 'pod';
  /** The instance id or namespace/pod, for derived roles. */
  via: string | null;
};

/** Who else loses their sessions when a role's are revoked. */
export type BlastRadius = { instances: string[]; instanceProfiles: string[]; serviceAccounts: string[] };

/** One role as discovered. */
export interface RoleFacts extends JsonObject {
  name: string;
  arn: string;
  reasons: RoleReason[];
  /** Instance profiles holding this role. */
  instanceProfiles: string[];
  /** Blast radius: other instances (running or stopped) launched with one of those profiles. */
  otherInstances: { instanceId: string; instanceProfile: string }[];
  /** Blast radius: service accounts annotated with this role (from the Kubernetes targets' cluster). */
  serviceAccounts: string[];
  /** Whether the plan revokes this role's sessions (else it is only recorded). */
  revoke: boolean;
}

/** One user as discovered. */
export interface UserFacts extends JsonObject {
  name: string;
  arn: string;
  activeKeys: string[];
  inactiveKeys: string[];
}

/** The IAM provider's discovered facts. */
export interface IamFacts {
  params: IamParams;
  roles: RoleFacts[];
  users: UserFacts[];
  /** Things discovery noticed that the plan should say (a profile without a role, a role not revoked). */
  notes: string[];
}
