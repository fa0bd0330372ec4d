-- Retention of host timeline entries: the periodic prune looks them up by age.
CREATE INDEX "HostEvent_at_idx" ON "HostEvent"("at");
