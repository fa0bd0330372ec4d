// Whether a patch can be rolled out live. The staging-time analysis is a fast preview; a build's
// object diff is the verdict that counts: a patch the preview calls requires-reboot (it misreads
// a change it cannot parse, or one that only looks like a data change) that some release built is
// live-patchable on that release. Pure and browser-safe: the rollout plan and the console's
// buttons say the same thing.

/** True when nothing can be rolled out: the preview says reboot and no release's build says otherwise. */
export function rebootOnly(p: { verdict: string; anyBuilt: boolean }): boolean {
  return (p.verdict === "requires-reboot" || p.verdict === "requires_reboot") && !p.anyBuilt;
}
