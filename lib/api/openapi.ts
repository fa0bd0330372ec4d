// The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with.
import { z } from "zod";
import { ArtifactRejectionSchema, EnrollRequestSchema, EnrollResponseSchema } from "@/agent/protocol";
import * as S from "./schemas";

type Op = {
  method: "get" | "post" | "patch" | "delete";
  path: string;
  summary: string;
  role: "public" | "viewer" | "operator" | "admin";
  body?: z.ZodType;
  query?: z.ZodObject;
  response?: z.ZodType;
  responseType?: string;
};

const List = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

const ROLLOUT_ACTIONS = {
  pause: "Pause: no new hosts are dispatched; hosts in flight finish",
  resume: "Resume a paused rollout (after a failure pause, the failures so far are accepted)",
  approve: "Approve continuing after the canary",
  abort: "Abort: hosts not started are skipped; hosts in flight finish",
  rollback: "Revert the patch on every host where this rollout applied it, as a new rollout",
};

export const OPERATIONS: Op[] = [
  { method: "get", path: "/api/health", summary: "Liveness and database reachability", role: "public" },
  { method: "get", path: "/api/v1/openapi.json", summary: "This document", role: "public" },
  { method: "post", path: "/api/v1/auth/login", summary: "Sign in; sets the session cookie. Attempts are throttled per (account, source address) and per source with exponential backoff: 429 with Retry-After", role: "public", body: S.LoginBodySchema, response: z.object({ operator: S.MeSchema }) },
  { method: "post", path: "/api/v1/auth/logout", summary: "End the session", role: "public" },
  { method: "get", path: "/api/v1/auth/me", summary: "Who is calling", role: "viewer", response: S.MeSchema },
  { method: "get", path: "/api/v1/hosts", summary: "Search, filter, sort and page hosts", role: "viewer", query: S.HostListQuerySchema, response: S.HostListSchema },
  { method: "get", path: "/api/v1/hosts/{id}", summary: "A host with its event timeline", role: "viewer", response: S.HostDetailSchema },
  { method: "patch", path: "/api/v1/hosts/{id}", summary: "Replace a host's labels", role: "operator", body: S.HostPatchBodySchema, response: S.HostSchema },
  { method: "post", path: "/api/v1/hosts/{id}/revoke", summary: "Revoke or decommission a host; its agent is disconnected at once", role: "admin", body: S.HostRevokeBodySchema, response: S.HostSchema },
  { method: "post", path: "/api/v1/hosts/{id}/merge", summary: "Merge a possible duplicate into the host it duplicates: that host takes the duplicate's agent (and credential); the duplicate is decommissioned", role: "admin", body: S.HostMergeBodySchema, response: S.HostSchema },
  { method: "post", path: "/api/v1/hosts/{id}/reapply", summary: "Re-apply every patch the host should have live and does not (drift): one rollout per patch, to this host", role: "operator", response: S.ReapplyResultSchema },
  { method: "post", path: "/api/v1/hosts/{id}/restore", summary: "Restore a revoked host: its agent's kept credential works again (the agent rotates it at its next enrollment)", role: "admin", body: S.HostRestoreBodySchema, response: S.HostSchema },
  { method: "get", path: "/api/v1/fleet/summary", summary: "Fleet overview counts", role: "viewer", response: S.FleetSummarySchema },
  { method: "get", path: "/api/v1/enrollment-tokens", summary: "Enrollment tokens", role: "admin", response: List(S.EnrollmentTokenSchema) },
  { method: "post", path: "/api/v1/enrollment-tokens", summary: "Create an enrollment token (the secret is returned once)", role: "admin", body: S.EnrollmentTokenCreateSchema, response: S.EnrollmentTokenCreatedSchema },
  { method: "delete", path: "/api/v1/enrollment-tokens/{id}", summary: "Revoke an enrollment token", role: "admin", response: S.EnrollmentTokenSchema },
  { method: "get", path: "/api/v1/operators", summary: "Operators", role: "admin", response: List(S.OperatorSchema) },
  { method: "post", path: "/api/v1/operators", summary: "Create an operator (400 weak_password below zxcvbn strength 3, with its feedback)", role: "admin", body: S.OperatorCreateSchema, response: S.OperatorSchema },
  { method: "patch", path: "/api/v1/operators/{id}", summary: "Change an operator's role, password or disabled state; ends their sessions, and disabling also revokes every API token they created", role: "admin", body: S.OperatorUpdateSchema, response: S.OperatorSchema },
  { method: "get", path: "/api/v1/api-tokens", summary: "API tokens", role: "admin", response: List(S.ApiTokenSchema) },
  { method: "post", path: "/api/v1/api-tokens", summary: "Create an API token (the secret is returned once); it expires after expiresInDays (default 90, at most 365)", role: "admin", body: S.ApiTokenCreateSchema, response: S.ApiTokenCreatedSchema },
  { method: "delete", path: "/api/v1/api-tokens/{id}", summary: "Revoke an API token; sockets using it are disconnected", role: "admin", response: S.ApiTokenSchema },
  { method: "get", path: "/api/v1/settings", summary: "Fleet settings", role: "viewer", response: S.SettingsSchema },
  { method: "patch", path: "/api/v1/settings", summary: "Change fleet settings", role: "admin", body: S.SettingsPatchSchema, response: S.SettingsSchema },
  { method: "get", path: "/api/v1/audit", summary: "Audit events, newest first", role: "viewer", query: S.AuditQuerySchema, response: S.AuditListSchema },
  { method: "get", path: "/api/v1/audit/export.csv", summary: "Audit events as CSV", role: "viewer", query: S.AuditQuerySchema, responseType: "text/csv" },
  { method: "get", path: "/api/v1/audit/verify", summary: "Verify the audit hash chain against its anchors outside the database (event MACs, signed checkpoints of the head)", role: "viewer", response: S.AuditVerifySchema },
  { method: "get", path: "/api/v1/patches", summary: "Staged patches, newest first", role: "viewer", response: List(S.PatchSummarySchema) },
  { method: "post", path: "/api/v1/patches", summary: "Stage a kernel patch (unified diff): parsed and analysed; refused with a reason if invalid", role: "operator", body: S.PatchCreateSchema, response: S.PatchDetailSchema },
  { method: "get", path: "/api/v1/patches/{id}", summary: "A staged patch with its analysis", role: "viewer", response: S.PatchDetailSchema },
  { method: "post", path: "/api/v1/patches/{id}/withdraw", summary: "Withdraw a patch no host has live (a bad or superseded fix): no new rollouts or builds; later patches built on it are built again without it", role: "operator", body: S.PatchWithdrawSchema, response: S.PatchDetailSchema },
  { method: "get", path: "/api/v1/patches/{id}/builds", summary: "A patch's builds, one per kernel release, with host counts", role: "viewer", response: List(S.BuildSchema) },
  { method: "post", path: "/api/v1/patches/{id}/builds", summary: "Ensure builds for the given (default: the patch's or the fleet's) kernel releases; never builds a release twice", role: "operator", body: S.EnsureBuildsSchema, response: z.object({ created: z.array(z.string()), items: z.array(S.BuildSchema) }) },
  { method: "get", path: "/api/v1/builds/{id}/log", summary: "A build's log (streamed live on /ui as builds:changed)", role: "viewer", response: S.BuildLogSchema },
  { method: "post", path: "/api/v1/builds/{id}/rebuild", summary: "Queue a failed build again", role: "operator" },
  { method: "get", path: "/api/v1/build-workers", summary: "Processes that run builds (build workers and consoles building in-process), online ones first", role: "viewer", response: List(S.BuildWorkerSchema) },
  { method: "get", path: "/api/v1/groups", summary: "Groups with live member counts, kernel releases and the staged patches their members lack", role: "viewer", response: List(S.GroupSchema) },
  { method: "post", path: "/api/v1/groups", summary: "Create a group: a named selector over hosts (labels, kernel releases, distros, explicit hosts)", role: "operator", body: S.GroupCreateSchema, response: S.GroupSchema },
  { method: "post", path: "/api/v1/groups/preview", summary: "Who a selector matches now, before saving it", role: "viewer", body: S.GroupPreviewBodySchema, response: S.GroupPreviewSchema },
  { method: "get", path: "/api/v1/groups/{id}", summary: "A group, its members' counts and patch status", role: "viewer", response: S.GroupSchema },
  { method: "patch", path: "/api/v1/groups/{id}", summary: "Rename a group or change its selector", role: "operator", body: S.GroupUpdateSchema, response: S.GroupSchema },
  { method: "delete", path: "/api/v1/groups/{id}", summary: "Delete a group (refused while a rollout to it is in progress)", role: "operator" },
  { method: "get", path: "/api/v1/exposure", summary: "Per CVE of a staged patch: hosts still exposed, by kernel release and group", role: "viewer", query: S.ExposureQuerySchema, response: S.ExposureSchema },
  { method: "post", path: "/api/v1/rollouts/preview", summary: "What a rollout would do (hosts, skipped with reasons, builds, waves), without starting it", role: "viewer", body: S.RolloutCreateSchema, response: S.RolloutPreviewSchema },
  { method: "post", path: "/api/v1/rollouts", summary: "Start a rollout of a patch to a group (strategy optional; defaults filled in)", role: "operator", body: S.RolloutCreateSchema, response: S.RolloutSummarySchema },
  { method: "get", path: "/api/v1/rollouts", summary: "Rollouts, newest first", role: "viewer", query: S.RolloutListQuerySchema, response: S.RolloutListSchema },
  { method: "get", path: "/api/v1/rollouts/{id}", summary: "A rollout with its waves and per-host results", role: "viewer", query: S.RolloutDetailQuerySchema, response: S.RolloutDetailSchema },
  { method: "get", path: "/api/v1/rollouts/{id}/hosts", summary: "A rollout's hosts, problems first, filtered and paged", role: "viewer", query: S.RolloutHostsQuerySchema, response: S.RolloutHostListSchema },
  { method: "get", path: "/api/v1/rollouts/{id}/hosts/{hostId}", summary: "One host's job in a rollout, with the agent's log", role: "viewer", response: S.RolloutHostDetailSchema },
  // The operator actions on a rollout: the same body, role and answer each.
  ...Object.entries(ROLLOUT_ACTIONS).map(([action, summary]): Op => ({ method: "post", path: `/api/v1/rollouts/{id}/${action}`, summary, role: "operator", body: S.RolloutActionSchema, response: S.RolloutSummarySchema })),
  { method: "post", path: "/api/v1/agent/enroll", summary: "Agent enrollment: exchange an enrollment token for a host credential", role: "public", body: EnrollRequestSchema, response: EnrollResponseSchema },
  { method: "get", path: "/api/v1/agent/artifacts/{id}", summary: "A build's artifact for an agent (Bearer host credential + x-splicer-host-id; only for the host's kernel release); signed fields in x-splicer-* headers", role: "public", responseType: "application/octet-stream" },
  { method: "post", path: "/api/v1/agent/artifacts/{id}/rejections", summary: "An agent reports an artifact it refused (bad hash or signature)", role: "public", body: ArtifactRejectionSchema },
  { method: "get", path: "/api/v1/agent/bundle", summary: "The single-file agent", role: "public", responseType: "text/javascript" },
  { method: "get", path: "/api/v1/agent/package", summary: "The agent as a Debian package (amd64; no Node.js needed on the host), as built by npm run package:agent", role: "public", responseType: "application/vnd.debian.binary-package" },
  { method: "get", path: "/api/v1/agent/systemd", summary: "The agent's systemd unit", role: "public", responseType: "text/plain" },
];

const schema = (s: z.ZodType, io: "input" | "output") => z.toJSONSchema(s, { io, unrepresentable: "any", target: "openapi-3.0" });

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const params = [
      ...[...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string", format: "uuid" } })),
      ...Object.entries(op.query?.shape ?? {}).map(([name, s]) => ({ name, in: "query", required: false, schema: schema(s as z.ZodType, "input") })),
    ];
    paths[op.path] ??= {};
    paths[op.path][op.method] = {
      summary: op.summary,
      description: op.role === "public" ? "No authentication." : `Requires the ${op.role} role (session cookie or Bearer API token).`,
      ...(op.role === "public" ? { security: [] } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: schema(op.body, "input") } } } } : {}),
      responses: {
        "200": {
          description: "OK",
          content: op.responseType ? { [op.responseType]: { schema: { type: "string" } } } : { "application/json": { schema: op.response ? schema(op.response, "output") : { type: "object" } } },
        },
        ...(op.role === "public" ? {} : { "401": { description: "Not signed in" }, "403": { description: "Role too low, or cross-site request" } }),
        "400": { description: "Invalid input", content: { "application/json": { schema: schema(S.ErrorSchema, "output") } } },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Splicer API", version: "1", description: "Rebootless kernel patching for a fleet. Errors are `{error:{code,message}}`." },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API token (spl_api_…) from Settings → API tokens" },
        session: { type: "apiKey", in: "cookie", name: "splicer_session" },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths,
  };
}
