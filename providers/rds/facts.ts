/** The RDS provider's params and facts. */
import type { JsonObject } from '../../src/core/types.js';

/** Policy file that grants everything this provider calls. */
export const RDS_POLICY = 'policies/aws/rds.json';

export interface RdsParams extends JsonObject {
  dbInstances: string[];
  dbClusters: string[];
  approvePending: boolean;
}

export interface DbFacts extends JsonObject {
  kind: 'instance' | 'cluster';
  id: string;
  arn: string;
  engine: string;
  status: string;
  vpcId: string;
  securityGroups: string[];
  deletionProtection: boolean;
  pendingModifiedValues: JsonObject;
  kmsKeyId: string | null;
  endpoint: string | null;
  port: number | null;
  /** Instances of an Aurora cluster captured through it. */
  members: string[];
}

export interface RdsFacts {
  params: RdsParams;
  region: string;
  databases: DbFacts[];
  notes: string[];
}
