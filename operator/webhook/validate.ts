/**
 * The validating decision for pods (CREATE and UPDATE, pods/status, Bindings): only the operator may write the
 * `vpc.amazonaws.com/pod-eni` annotation. The VPC CNI wires a pod into whatever branch ENI and VLAN that
 * annotation names, so anyone able to write it could put a pod behind another pod's security groups
 * (docs/compatibility.md#the-pod-eni-annotation). EKS denies the same writes; its controller identities are accepted too, so a
 * cluster moving between EKS's controller and this operator keeps working.
 *
 * Pure: (request, allowed usernames) → verdict.
 */
import { POD_ENI_ANNOTATION } from '../api/constants.ts';
import { describePod, type AdmissionRequest, type AdmissionVerdict } from './admission.ts';

/** Usernames EKS's VPC resource controller runs as (docs/compatibility.md#webhooks), accepted for drop-in compatibility. */
export const EKS_CONTROLLER_USERNAMES: readonly string[] = [
  'system:serviceaccount:kube-system:vpc-resource-controller',
  'system:serviceaccount:kube-system:eks-vpc-resource-controller',
  'eks:vpc-resource-controller',
];

export function decidePodValidation(request: AdmissionRequest, operatorUsernames: readonly string[]): AdmissionVerdict {
  const username = request.userInfo.username ?? '';
  const isOperator = operatorUsernames.includes(username);
  switch (request.operation) {
    case 'CREATE': {
      const value = request.object?.metadata.annotations?.[POD_ENI_ANNOTATION];
      if (value === undefined || isOperator) return { kind: 'allow', reason: 'annotation-untouched' };
      if (request.subResource === 'binding' || request.resource?.resource === 'bindings') {
        // The API server copies a Binding's annotations onto the pod it binds.
        return {
          kind: 'deny',
          code: 403,
          reason: 'annotation-forged',
          message:
            `a Binding may not set the ${POD_ENI_ANNOTATION} annotation of pod ${describePod(request)}: it is ` +
            `written only by sgp-operator once the pod's branch ENI is attached; bind the pod without it`,
        };
      }
      return {
        kind: 'deny',
        code: 403,
        reason: 'annotation-forged',
        message:
          `pod cannot be created with the ${POD_ENI_ANNOTATION} annotation: it is written only by sgp-operator ` +
          `once the pod's branch ENI is attached; remove the annotation from pod ${describePod(request)}`,
      };
    }
    case 'UPDATE': {
      const before = request.oldObject?.metadata.annotations?.[POD_ENI_ANNOTATION];
      const after = request.object?.metadata.annotations?.[POD_ENI_ANNOTATION];
      if (before === after || isOperator) return { kind: 'allow', reason: 'annotation-untouched' };
      const change = before === undefined ? 'add' : after === undefined ? 'remove' : 'change';
      return {
        kind: 'deny',
        code: 403,
        reason: 'annotation-forged',
        message:
          `${username || 'this user'} may not ${change} the ${POD_ENI_ANNOTATION} annotation of pod ` +
          `${describePod(request)}: it is written only by sgp-operator, and the VPC CNI wires the pod into the ` +
          `branch ENI it names; leave the annotation as it is`,
      };
    }
    case 'DELETE':
    case 'CONNECT':
      return { kind: 'allow', reason: 'not-a-write' };
    default: {
      const unreachable: never = request.operation;
      return unreachable;
    }
  }
}
