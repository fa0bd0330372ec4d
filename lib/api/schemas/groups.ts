// API schemas: host groups and their selectors. lib/api/schemas/index.ts exports every domain's.
import { z } from "zod";
import { CREATED } from "./common";
import { storableText } from "@/agent/protocol";
import { LabelsSchema } from "./hosts";
import { KernelReleaseSchema, PATCH_FACTS } from "./patches";

const DistroIdSchema = z.string().trim().min(1).max(64).regex(/^[a-z0-9._-]+$/, "distro ids look like debian, ubuntu, rhel (os-release ID)");

/**
 * Which hosts a group holds, evaluated live. A host is a member when it is active and either is
 * listed in `hostIds` or matches every other criterion given (labels: all of them; kernel
 * releases and distros: any of those listed). `all: true` matches every active host.
 */
export const GroupSelectorSchema = z
  .object({
    all: z.literal(true).optional(),
    labels: z.record(z.string(), z.string()).optional().pipe(LabelsSchema.optional()),
    kernelReleases: z.array(KernelReleaseSchema).max(500).optional(),
    distros: z.array(DistroIdSchema).max(50).optional(),
    hostIds: z.array(z.string().uuid("host ids are UUIDs")).max(10_000).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const criteria = Object.keys(s.labels ?? {}).length + (s.kernelReleases?.length ?? 0) + (s.distros?.length ?? 0);
    if (s.all && (criteria > 0 || s.hostIds?.length)) ctx.addIssue({ code: "custom", message: "`all` matches every host; give no other criteria with it" });
    if (!s.all && criteria === 0 && !s.hostIds?.length) {
      ctx.addIssue({ code: "custom", message: "a selector needs labels, kernel releases, distros or hosts (or all: true for every host)" });
    }
  });
export type GroupSelector = z.infer<typeof GroupSelectorSchema>;

export const GroupNameSchema = z
  .string()
  .trim()
  .min(1, "name is required")
  .max(64, "names are at most 64 characters")
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._/-]*$/, "names: letters, digits, spaces and . _ / - (starting with a letter or digit)");
const GROUP_FIELDS = {
  name: GroupNameSchema,
  description: storableText().trim().max(2000),
  selector: GroupSelectorSchema,
  /** Members' agents load the patches they keep again after a reboot into the same kernel (off if any group of a host says so). */
  reloadAtBoot: z.boolean(),
};
export const GroupCreateSchema = z.object({ ...GROUP_FIELDS, description: GROUP_FIELDS.description.default(""), reloadAtBoot: GROUP_FIELDS.reloadAtBoot.default(true) });
export type GroupCreate = z.infer<typeof GroupCreateSchema>;
// Without the create defaults: a change of one field must leave the others as they are.
export const GroupUpdateSchema = z
  .object(GROUP_FIELDS)
  .partial()
  .refine((b) => Object.keys(b).length > 0, "nothing to change");

/** A staged patch as it stands in a group: how many members still need it. */
export const GroupPatchStatusSchema = z.object({
  patchId: z.string(),
  ...PATCH_FACTS,
  /** Members whose kernel the patch targets. */
  targeted: z.number(),
  /** Of those, members where the patch is live. */
  applied: z.number(),
  /** Targeted members without it: what a rollout would patch. */
  missing: z.number(),
  /** A rollout of this patch to this group that is not finished. */
  activeRolloutId: z.string().nullable(),
  /** Some release's build of the patch made a module (the verdict that counts, over the preview's). */
  anyBuilt: z.boolean(),
});
export type GroupPatchStatus = z.infer<typeof GroupPatchStatusSchema>;

export const GroupSchema = z.object({
  id: z.string(),
  // As created or last updated.
  ...GroupCreateSchema.shape,
  ...CREATED,
  memberCount: z.number(),
  onlineCount: z.number(),
  kernelReleases: z.array(z.object({ kernelRelease: z.string(), hosts: z.number() })),
  /** Staged patches not yet live on every targeted member. */
  patches: z.array(GroupPatchStatusSchema),
});
export type Group = z.infer<typeof GroupSchema>;

export const GroupPreviewBodySchema = z.object({ selector: GroupSelectorSchema });
export const GroupPreviewSchema = z.object({
  memberCount: z.number(),
  onlineCount: z.number(),
  kernelReleases: z.array(z.object({ kernelRelease: z.string(), hosts: z.number() })),
  /** Up to 20 members, by hostname. */
  sample: z.array(z.object({ id: z.string(), hostname: z.string() })),
});
export type GroupPreview = z.infer<typeof GroupPreviewSchema>;
