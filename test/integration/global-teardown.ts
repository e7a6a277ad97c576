/** Stops the run's control plane (see global-setup.ts); its temp data dir goes with it unless a process crashed. */
export default async function globalTeardown(): Promise<void> {
  const plane = globalThis.__SGP_CONTROL_PLANE__;
  globalThis.__SGP_CONTROL_PLANE__ = undefined;
  await plane?.stop();
}
