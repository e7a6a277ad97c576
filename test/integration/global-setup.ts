/**
 * Jest global setup for the integration project: ONE control plane per run (kube-apiserver + etcd, or an
 * existing cluster with USE_EXISTING_CLUSTER=true), every CRD in crds/ installed and Established, and
 * KUBECONFIG exported. Jest starts its workers after this returns, so they inherit KUBECONFIG.
 *
 * When nothing can provide a control plane (no Go, no KUBEBUILDER_ASSETS, no cluster) it prints one line
 * saying what to install or set and exits non-zero, instead of a stack trace.
 */
import { ControlPlaneError, startControlPlane, type ControlPlane } from '../../hack/control-plane/control-plane.ts';
import { installCrds } from '../../hack/control-plane/crds.ts';

declare global {
  var __SGP_CONTROL_PLANE__: ControlPlane | undefined;
}

export default async function globalSetup(): Promise<void> {
  let plane: ControlPlane | undefined;
  try {
    plane = await startControlPlane({ keepDataDir: process.env.SGP_KEEP_CONTROL_PLANE === 'true' });
    globalThis.__SGP_CONTROL_PLANE__ = plane;
    process.env.KUBECONFIG = plane.kubeconfigPath;
    await installCrds(plane.kubeconfigPath);
  } catch (error) {
    await plane?.stop();
    if (error instanceof ControlPlaneError) {
      process.stderr.write(`\nintegration tests: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
