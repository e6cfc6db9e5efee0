-- IFTTT as a published service (docs/ifttt.md).

-- The trigger identities IFTTT polls (one per applet's trigger and fields), so that an event they
-- would list can make the bridge tell IFTTT to poll at once (realtime). IFTTT deletes them when an
-- applet is turned off or its fields change.
CREATE TABLE ifttt_trigger_identities (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  trigger_slug TEXT NOT NULL,
  -- the event type the trigger lists (call.completed, call.succeeded, call.failed)
  event_type TEXT NOT NULL,
  -- call_finished_from_number's number (E.164); NULL: any number
  phone TEXT,
  created_at INTEGER NOT NULL,
  last_polled_at INTEGER NOT NULL
);
CREATE INDEX ifttt_trigger_identities_by_user ON ifttt_trigger_identities (user_id, event_type);

-- Realtime notifications owed to IFTTT: one row per user with a new event a trigger identity
-- would list, written in the batch that records the event. Sent (up to 1,000 users per request)
-- by the delivery queue's consumer or the cron, and retried on the webhook schedule.
CREATE TABLE ifttt_notifications (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  due_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX ifttt_notifications_due ON ifttt_notifications (due_at);
