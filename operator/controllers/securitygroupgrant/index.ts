/**
 * SecurityGroupGrant: the controller that resolves grants' tag rules, and the pure judgement other folders
 * use (the webhook and the SecurityGroupPolicy and pod controllers decide through judgeGroupsForNamespace).
 */
import { Kinds } from '../../api/kinds.ts';
import type { SecurityGroupGrant } from '../../api/types.ts';
import type { Controller } from '../../framework/types.ts';
import type { ControllerDeps } from '../deps.ts';
import { SecurityGroupGrantReconciler } from './controller.ts';

export { SecurityGroupGrantReconciler, GRANT_REFRESH_MS, escapeFilterValue } from './controller.ts';
export type { GrantReconcilerDeps } from './controller.ts';
export {
  GrantCondition,
  grantCoversNamespace,
  groupsOfGrant,
  hasTagRules,
  isGrantResolved,
  judgeGroupsForNamespace,
  liveGrants,
} from './judgement.ts';
export type { GrantScope, GrantSubject, GroupGrantVerdict } from './judgement.ts';
export { describeTagRule, resolvedGrantStatus, unresolvedGrantStatus } from './status.ts';

/** Grants are few and each reconcile is a describe per tag rule; one worker is plenty. */
export const GRANT_WORKERS = 1;

export function registerSecurityGroupGrantController(deps: ControllerDeps): Controller {
  const grants = deps.manager.informer<SecurityGroupGrant>({ kind: Kinds.SecurityGroupGrant });
  const reconciler = new SecurityGroupGrantReconciler({
    client: deps.client,
    recorder: deps.recorder,
    clock: deps.clock,
    ec2: deps.ec2,
    vpcId: deps.cluster.vpcId,
    grants,
  });
  const controller = deps.manager.controller({ name: 'securitygroupgrant', reconciler, workers: GRANT_WORKERS });
  controller.watch(grants);
  return controller;
}
