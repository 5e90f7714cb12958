-- smsgw's own tables and wake-up trigger, added next to Gammu's (which smsgw never alters).
-- Safe to run on every start.

-- Who holds the lease (outbox.SendingTimeOut) of a message being sent.
CREATE TABLE IF NOT EXISTS smsgw_claims (
  "ID" integer PRIMARY KEY,
  "Owner" text NOT NULL,
  "Lease" text NOT NULL,
  "ClaimedAt" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)
);

-- Parts of concatenated messages received but not yet complete.
CREATE TABLE IF NOT EXISTS smsgw_pending_parts (
  "PhoneID" text NOT NULL,
  "Sender" text NOT NULL,
  "Reference" integer NOT NULL,
  "Total" integer NOT NULL,
  "Seq" integer NOT NULL,
  "PDU" text NOT NULL,
  "ReceivedAt" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  PRIMARY KEY ("PhoneID", "Sender", "Reference", "Total", "Seq")
);

-- Status reports that matched no sent message (never put into inbox).
CREATE TABLE IF NOT EXISTS smsgw_unmatched_reports (
  "ID" serial PRIMARY KEY,
  "PhoneID" text NOT NULL,
  "TPMR" integer NOT NULL,
  "Number" text NOT NULL,
  "Status" integer NOT NULL,
  "DischargeTime" text,
  "ReceivedAt" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)
);

-- The SMSC's message id of each part sent through a route that gives one (SMPP): delivery
-- receipts name the message by it. A row goes when a final receipt matched it.
CREATE TABLE IF NOT EXISTS smsgw_smsc_ids (
  "Route" text NOT NULL,
  "MessageID" text NOT NULL,
  "ID" integer NOT NULL,
  "SequencePosition" integer NOT NULL,
  "SentAt" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0),
  PRIMARY KEY ("Route", "MessageID")
);

-- Receipts whose message id is not known (yet): a receipt can overtake the submit_sm_resp
-- being recorded. Matched again when a part with that id is recorded.
CREATE TABLE IF NOT EXISTS smsgw_pending_receipts (
  "Route" text NOT NULL,
  "MessageID" text NOT NULL,
  "Status" integer NOT NULL,
  "DischargeTime" text,
  "ReceivedAt" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)
);
CREATE INDEX IF NOT EXISTS smsgw_pending_receipts_id ON smsgw_pending_receipts ("Route", "MessageID");

-- Why a message ended in an error state (sentitems has only a number).
CREATE TABLE IF NOT EXISTS smsgw_failures (
  "ID" integer NOT NULL,
  "Reason" text NOT NULL,
  "FailedAt" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)
);

-- Why a message waits: the last failed attempt's code and reason (outbox.StatusCode has
-- only the number); gone with the message.
CREATE TABLE IF NOT EXISTS smsgw_last_errors (
  "ID" integer PRIMARY KEY,
  "Code" integer NOT NULL,
  "Reason" text NOT NULL,
  "At" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)
);

-- Spool files queued (smsgw's spool directory): a file taken twice after a crash is queued
-- once.
CREATE TABLE IF NOT EXISTS smsgw_spool (
  "SpoolKey" text PRIMARY KEY,
  "ID" integer NOT NULL,
  "QueuedAt" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)
);

-- The event log (DESIGN.md, "Faces"): every change a face may report (queued, sent, failed,
-- status report, received), written in the same commit as the change. Consumers (webhooks,
-- dlr-url) keep a cursor each; events are pruned once every consumer passed them.
CREATE TABLE IF NOT EXISTS smsgw_events (
  "ID" bigserial PRIMARY KEY,
  "Kind" text NOT NULL,
  "MessageID" integer NOT NULL,
  "Body" text NOT NULL,
  "CreatedAt" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)
);

-- Each consumer's cursor: every event up to LastID is delivered (or parked for a retry).
CREATE TABLE IF NOT EXISTS smsgw_event_cursors (
  "Consumer" text PRIMARY KEY,
  "LastID" bigint NOT NULL,
  "UpdatedAt" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)
);

-- Which daemon delivers a consumer's events now (several daemons on one database: one
-- each, the others take over when its lease runs out).
CREATE TABLE IF NOT EXISTS smsgw_event_leases (
  "Consumer" text PRIMARY KEY,
  "Holder" text NOT NULL,
  "LeasedUntil" timestamp(0) WITHOUT time zone NOT NULL
);

-- Events a consumer could not deliver yet, and when it tries again.
CREATE TABLE IF NOT EXISTS smsgw_event_retries (
  "Consumer" text NOT NULL,
  "EventID" bigint NOT NULL,
  "Attempts" integer NOT NULL,
  "NextAt" timestamp(0) WITHOUT time zone NOT NULL,
  "LastError" text NOT NULL,
  PRIMARY KEY ("Consumer", "EventID")
);

-- How a face queued a message (outbox ID): who, with which idempotency key, and where its
-- delivery reports go (Kannel's dlr-url and dlr-mask).
CREATE TABLE IF NOT EXISTS smsgw_submissions (
  "ID" integer PRIMARY KEY,
  "Face" text NOT NULL,
  "Owner" text NOT NULL,
  "IdemKey" text,
  "Destination" text NOT NULL,
  "Sender" text NOT NULL,
  "DlrUrl" text,
  "DlrMask" integer NOT NULL,
  "CreatedAt" timestamp(0) WITHOUT time zone NOT NULL DEFAULT LOCALTIMESTAMP(0)
);
CREATE INDEX IF NOT EXISTS smsgw_submissions_owner ON smsgw_submissions("Owner", "ID");
CREATE INDEX IF NOT EXISTS smsgw_submissions_key ON smsgw_submissions("Owner", "IdemKey");

-- smsgw: optional from here (needs the right to add a trigger to outbox; without it rows
-- inserted by other programs are found by polling).

-- A row inserted into outbox by any program (Kalkun, a script, gammu-smsd-inject) wakes
-- the daemons listening on channel smsgw_outbox at once.
CREATE OR REPLACE FUNCTION smsgw_outbox_notify() RETURNS trigger AS $smsgw_notify$
  BEGIN
    PERFORM pg_notify('smsgw_outbox', '');
    RETURN NULL;
  END;
$smsgw_notify$ LANGUAGE plpgsql;
DO $smsgw_trigger$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'smsgw_outbox_notify' AND tgrelid = 'outbox'::regclass) THEN
    CREATE TRIGGER smsgw_outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE PROCEDURE smsgw_outbox_notify();
  END IF;
END $smsgw_trigger$;
