-- Every appended audit event is announced on the console's bus (see lib/realtime/bus.ts), by the
-- database itself: one round trip less while the audit chain's lock is held, and no append can
-- forget to announce itself. NOTIFY is delivered only if the transaction commits.
CREATE FUNCTION "audit_event_notify"() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('splicer_events', json_build_object('type', 'audit.appended', 'seq', NEW."seq"::text)::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "AuditEvent_notify"
  AFTER INSERT ON "AuditEvent"
  FOR EACH ROW EXECUTE FUNCTION "audit_event_notify"();
