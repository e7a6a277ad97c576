/**
 * The namespace label POLICY_NAMESPACE_LABEL=true marks namespaces holding at least one policy. The pod
 * webhook configuration selects namespaces by it, so pods in namespaces without policies never wait on the
 * webhook (and a webhook outage cannot affect them).
 */
import { POLICY_NAMESPACE_LABEL } from '../../api/constants.ts';

/** The merge patch that makes the label match `hasPolicies`, or undefined when it already does. */
export function namespaceLabelPatch(
  labels: Record<string, string> | undefined,
  hasPolicies: boolean,
): { metadata: { labels: Record<string, string | null> } } | undefined {
  const labelled = labels?.[POLICY_NAMESPACE_LABEL] === 'true';
  if (hasPolicies === labelled) return undefined;
  return { metadata: { labels: { [POLICY_NAMESPACE_LABEL]: hasPolicies ? 'true' : null } } };
}
