/** The pod-eni resource check: pods a policy selects that were admitted without `vpc.amazonaws.com/pod-eni`. */
export {
  createMissingResourceReconciler,
  decideMissingPodEni,
  setupMissingResourceController,
  RECREATABLE_OWNER_KINDS,
} from './controller.ts';
export type { MissingResourceDecision, MissingResourceOptions } from './controller.ts';
