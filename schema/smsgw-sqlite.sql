-- smsgw's own tables, added next to Gammu's (which smsgw never alters). Safe to run on
-- every start.

-- Who holds the lease (outbox.SendingTimeOut) of a message being sent.
CREATE TABLE IF NOT EXISTS smsgw_claims (
  ID INTEGER PRIMARY KEY,
  Owner TEXT NOT NULL,
  Lease TEXT NOT NULL,
  ClaimedAt NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime'))
);

-- Parts of concatenated messages received but not yet complete (the SIM is emptied once
-- a part is here).
CREATE TABLE IF NOT EXISTS smsgw_pending_parts (
  PhoneID TEXT NOT NULL,
  Sender TEXT NOT NULL,
  Reference INTEGER NOT NULL,
  Total INTEGER NOT NULL,
  Seq INTEGER NOT NULL,
  PDU TEXT NOT NULL,
  ReceivedAt NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime')),
  PRIMARY KEY (PhoneID, Sender, Reference, Total, Seq)
);

-- Status reports that matched no sent message (never put into inbox).
CREATE TABLE IF NOT EXISTS smsgw_unmatched_reports (
  ID INTEGER PRIMARY KEY AUTOINCREMENT,
  PhoneID TEXT NOT NULL,
  TPMR INTEGER NOT NULL,
  Number TEXT NOT NULL,
  Status INTEGER NOT NULL,
  DischargeTime TEXT,
  ReceivedAt NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime'))
);

-- The SMSC's message id of each part sent through a route that gives one (SMPP): delivery
-- receipts name the message by it. A row goes when a final receipt matched it.
CREATE TABLE IF NOT EXISTS smsgw_smsc_ids (
  Route TEXT NOT NULL,
  MessageID TEXT NOT NULL,
  ID INTEGER NOT NULL,
  SequencePosition INTEGER NOT NULL,
  SentAt NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime')),
  PRIMARY KEY (Route, MessageID)
);

-- Receipts whose message id is not known (yet): a receipt can overtake the submit_sm_resp
-- being recorded. Matched again when a part with that id is recorded.
CREATE TABLE IF NOT EXISTS smsgw_pending_receipts (
  Route TEXT NOT NULL,
  MessageID TEXT NOT NULL,
  Status INTEGER NOT NULL,
  DischargeTime TEXT,
  ReceivedAt NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime'))
);
CREATE INDEX IF NOT EXISTS smsgw_pending_receipts_id ON smsgw_pending_receipts(Route, MessageID);

-- Why a message ended in an error state (sentitems has only a number).
CREATE TABLE IF NOT EXISTS smsgw_failures (
  ID INTEGER NOT NULL,
  Reason TEXT NOT NULL,
  FailedAt NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime'))
);

-- Why a message waits: the last failed attempt's code and reason (outbox.StatusCode has
-- only the number); gone with the message.
CREATE TABLE IF NOT EXISTS smsgw_last_errors (
  ID INTEGER PRIMARY KEY,
  Code INTEGER NOT NULL,
  Reason TEXT NOT NULL,
  At NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime'))
);

-- Spool files queued (smsgw's spool directory): a file taken twice after a crash is queued
-- once.
CREATE TABLE IF NOT EXISTS smsgw_spool (
  SpoolKey TEXT PRIMARY KEY,
  ID INTEGER NOT NULL,
  QueuedAt NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime'))
);

-- The claim's order (Priority DESC, InsertIntoDB, ID): without it every claim sorts the whole
-- outbox (15 messages/s with 100,000 queued instead of hundreds).
CREATE INDEX IF NOT EXISTS smsgw_outbox_order ON outbox(Priority DESC, InsertIntoDB, ID);

-- The event log (DESIGN.md, "Faces"): every change a face may report (queued, sent, failed,
-- status report, received), written in the same commit as the change. Consumers (webhooks,
-- dlr-url) keep a cursor each; events are pruned once every consumer passed them.
CREATE TABLE IF NOT EXISTS smsgw_events (
  ID INTEGER PRIMARY KEY AUTOINCREMENT,
  Kind TEXT NOT NULL,
  MessageID INTEGER NOT NULL,
  Body TEXT NOT NULL,
  CreatedAt NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime'))
);

-- Each consumer's cursor: every event up to LastID is delivered (or parked for a retry).
CREATE TABLE IF NOT EXISTS smsgw_event_cursors (
  Consumer TEXT PRIMARY KEY,
  LastID INTEGER NOT NULL,
  UpdatedAt NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime'))
);

-- Which daemon delivers a consumer's events now (several daemons on one database: one
-- each, the others take over when its lease runs out).
CREATE TABLE IF NOT EXISTS smsgw_event_leases (
  Consumer TEXT PRIMARY KEY,
  Holder TEXT NOT NULL,
  LeasedUntil NUMERIC NOT NULL
);

-- Events a consumer could not deliver yet, and when it tries again.
CREATE TABLE IF NOT EXISTS smsgw_event_retries (
  Consumer TEXT NOT NULL,
  EventID INTEGER NOT NULL,
  Attempts INTEGER NOT NULL,
  NextAt NUMERIC NOT NULL,
  LastError TEXT NOT NULL,
  PRIMARY KEY (Consumer, EventID)
);

-- How a face queued a message (outbox ID): who, with which idempotency key, and where its
-- delivery reports go (Kannel's dlr-url and dlr-mask).
CREATE TABLE IF NOT EXISTS smsgw_submissions (
  ID INTEGER PRIMARY KEY,
  Face TEXT NOT NULL,
  Owner TEXT NOT NULL,
  IdemKey TEXT,
  Destination TEXT NOT NULL,
  Sender TEXT NOT NULL,
  DlrUrl TEXT,
  DlrMask INTEGER NOT NULL,
  CreatedAt NUMERIC NOT NULL DEFAULT (datetime('now', 'localtime'))
);
CREATE INDEX IF NOT EXISTS smsgw_submissions_owner ON smsgw_submissions(Owner, ID);
CREATE INDEX IF NOT EXISTS smsgw_submissions_key ON smsgw_submissions(Owner, IdemKey);
