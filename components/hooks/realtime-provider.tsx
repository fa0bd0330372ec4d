"use client";
import * as React from "react";
import { useQueryClient } from "@tanstack/react-query";
import { io, type Socket } from "socket.io-client";
import { UI_NAMESPACE, type UiServerEvents } from "@/lib/api/schemas";
import { qk } from "./keys";

export type LiveStatus = "connecting" | "live" | "offline";

interface RealtimeValue {
  status: LiveStatus;
  /** Host ids that changed in the last few seconds: tables flash them. */
  recentlyChanged: ReadonlySet<string>;
}

const RealtimeContext = React.createContext<RealtimeValue>({ status: "connecting", recentlyChanged: new Set() });

export function useRealtime(): RealtimeValue {
  return React.useContext(RealtimeContext);
}

/**
 * One socket per tab on the /ui namespace. Server events only say *what* changed; the
 * query cache refetches whatever is on screen, so every page stays live without a reload.
 */
export function RealtimeProvider({ children }: { children: React.ReactNode }) {
  const qc = useQueryClient();
  const [status, setStatus] = React.useState<LiveStatus>("connecting");
  const [recent, setRecent] = React.useState<ReadonlySet<string>>(() => new Set());

  React.useEffect(() => {
    const socket: Socket<UiServerEvents> = io(UI_NAMESPACE, {
      path: "/socket.io",
      withCredentials: true,
      transports: ["websocket", "polling"],
      reconnectionDelayMax: 10_000,
    });
    let everConnected = false;
    const clearTimers = new Set<ReturnType<typeof setTimeout>>();

    // A big fleet can change every second; refetch lists and the summary at most once a second
    // (first change right away, the rest folded into one trailing refetch).
    const pending = { ids: new Set<string>(), all: false };
    let lastFlush = 0;
    let flushTimer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      flushTimer = null;
      lastFlush = Date.now();
      const { all } = pending;
      const ids = [...pending.ids];
      pending.ids.clear();
      pending.all = false;
      void qc.invalidateQueries({ queryKey: qk.hosts() });
      void qc.invalidateQueries({ queryKey: qk.fleetSummary });
      if (all) void qc.invalidateQueries({ queryKey: qk.host() });
      else for (const id of ids) void qc.invalidateQueries({ queryKey: qk.host(id) });
      // Livepatches loaded or unloaded change which groups still miss a patch, and who is exposed.
      void qc.invalidateQueries({ queryKey: qk.groups });
      void qc.invalidateQueries({ queryKey: qk.exposure() });
    };
    const invalidateHosts = (ids: string[], all: boolean) => {
      ids.forEach((id) => pending.ids.add(id));
      pending.all ||= all;
      if (flushTimer) return;
      flushTimer = setTimeout(flush, Math.max(0, lastFlush + 1_000 - Date.now()));
    };

    // Rollouts: 5,000 hosts finishing within seconds arrive as a stream of "rollouts:changed"
    // (already coalesced per rollout, ~4/s by the server). Refetch what is on screen at most
    // every 700 ms: lists, and the changed rollouts' detail, host table and open host log.
    const pendingRollouts = new Set<string>();
    let lastRolloutFlush = 0;
    let rolloutTimer: ReturnType<typeof setTimeout> | null = null;
    const flushRollouts = () => {
      rolloutTimer = null;
      lastRolloutFlush = Date.now();
      const ids = [...pendingRollouts];
      pendingRollouts.clear();
      void qc.invalidateQueries({ queryKey: qk.rolloutList() });
      for (const id of ids) {
        void qc.invalidateQueries({ queryKey: qk.rollout(id) });
        void qc.invalidateQueries({ queryKey: qk.rolloutHosts(id) });
        void qc.invalidateQueries({ queryKey: qk.rolloutHost(id) });
      }
      // A group's patch card shows whether a rollout is active.
      void qc.invalidateQueries({ queryKey: qk.groups });
    };
    const invalidateRollouts = (ids: string[]) => {
      ids.forEach((id) => pendingRollouts.add(id));
      if (rolloutTimer) return;
      rolloutTimer = setTimeout(flushRollouts, Math.max(0, lastRolloutFlush + 700 - Date.now()));
    };

    socket.on("connect", () => {
      setStatus("live");
      // Anything may have changed while we were away.
      if (everConnected) void qc.invalidateQueries();
      everConnected = true;
    });
    socket.on("disconnect", () => setStatus("offline"));
    socket.on("connect_error", () => setStatus("offline"));
    socket.on("hosts:changed", (e) => {
      const ids = Array.isArray(e?.ids) ? e.ids : [];
      invalidateHosts(ids, !!e?.all);
      if (ids.length > 0 && ids.length <= 200) {
        setRecent((prev) => new Set([...prev, ...ids]));
        const t = setTimeout(() => {
          clearTimers.delete(t);
          setRecent((prev) => {
            const next = new Set(prev);
            ids.forEach((id) => next.delete(id));
            return next;
          });
        }, 2_000);
        clearTimers.add(t);
      }
    });
    socket.on("audit:appended", () => {
      // Every operator action is audited, so this is also the signal that admin lists changed.
      void qc.invalidateQueries({ queryKey: qk.audit() });
      void qc.invalidateQueries({ queryKey: qk.enrollmentTokens });
      void qc.invalidateQueries({ queryKey: qk.operators });
      void qc.invalidateQueries({ queryKey: qk.apiTokens });
      void qc.invalidateQueries({ queryKey: qk.settings });
      // Staging a patch is audited too: a patch staged elsewhere shows up without a reload.
      void qc.invalidateQueries({ queryKey: qk.patches });
      // And groups: one created, edited or deleted elsewhere.
      void qc.invalidateQueries({ queryKey: qk.groupList });
    });
    socket.on("rollouts:changed", (e) => {
      const ids = Array.isArray(e?.ids) ? e.ids.filter((x): x is string => typeof x === "string") : [];
      invalidateRollouts(ids);
    });
    socket.on("builds:changed", (e) => {
      if (!e || typeof e.patchId !== "string") return;
      // A log that grew only needs the open log refetched; a state change needs the patch page
      // (its build matrix) and the log's status line.
      if (!e.log) void qc.invalidateQueries({ queryKey: qk.patch(e.patchId) });
      if (e.buildId) void qc.invalidateQueries({ queryKey: qk.buildLog(e.buildId) });
    });

    return () => {
      clearTimers.forEach(clearTimeout);
      if (flushTimer) clearTimeout(flushTimer);
      if (rolloutTimer) clearTimeout(rolloutTimer);
      socket.removeAllListeners();
      socket.disconnect();
    };
  }, [qc]);

  const value = React.useMemo(() => ({ status, recentlyChanged: recent }), [status, recent]);
  return <RealtimeContext.Provider value={value}>{children}</RealtimeContext.Provider>;
}
