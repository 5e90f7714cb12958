-- smsgw's own tables, added next to Gammu's (which smsgw never alters). Safe to run on
-- every start.

CREATE TABLE IF NOT EXISTS smsgw_claims (
  ID integer unsigned NOT NULL PRIMARY KEY,
  Owner varchar(255) NOT NULL,
  Lease varchar(32) NOT NULL,
  ClaimedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS smsgw_pending_parts (
  PhoneID varchar(255) NOT NULL,
  Sender varchar(64) NOT NULL,
  Reference integer NOT NULL,
  Total integer NOT NULL,
  Seq integer NOT NULL,
  PDU text NOT NULL,
  ReceivedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (PhoneID, Sender, Reference, Total, Seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS smsgw_unmatched_reports (
  ID integer unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  PhoneID text NOT NULL,
  TPMR integer NOT NULL,
  Number text NOT NULL,
  Status integer NOT NULL,
  DischargeTime text,
  ReceivedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The SMSC's message id of each part sent through a route that gives one (SMPP): delivery
-- receipts name the message by it. A row goes when a final receipt matched it.
CREATE TABLE IF NOT EXISTS smsgw_smsc_ids (
  Route varchar(255) NOT NULL,
  MessageID varchar(65) NOT NULL,
  ID integer unsigned NOT NULL,
  SequencePosition integer NOT NULL,
  SentAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (Route, MessageID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Receipts whose message id is not known (yet): a receipt can overtake the submit_sm_resp
-- being recorded. Matched again when a part with that id is recorded.
CREATE TABLE IF NOT EXISTS smsgw_pending_receipts (
  Route varchar(255) NOT NULL,
  MessageID varchar(65) NOT NULL,
  Status integer NOT NULL,
  DischargeTime text,
  ReceivedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY smsgw_pending_receipts_id (Route, MessageID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS smsgw_failures (
  ID integer unsigned NOT NULL,
  Reason text NOT NULL,
  FailedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Why a message waits: the last failed attempt's code and reason (outbox.StatusCode has
-- only the number); gone with the message.
CREATE TABLE IF NOT EXISTS smsgw_last_errors (
  ID integer unsigned NOT NULL PRIMARY KEY,
  Code integer NOT NULL,
  Reason text NOT NULL,
  At timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS smsgw_spool (
  SpoolKey varchar(255) NOT NULL PRIMARY KEY,
  ID integer unsigned NOT NULL,
  QueuedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- The event log (DESIGN.md, "Faces"): every change a face may report (queued, sent, failed,
-- status report, received), written in the same commit as the change. Consumers (webhooks,
-- dlr-url) keep a cursor each; events are pruned once every consumer passed them.
CREATE TABLE IF NOT EXISTS smsgw_events (
  ID bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  Kind varchar(16) NOT NULL,
  MessageID integer unsigned NOT NULL,
  Body mediumtext NOT NULL,
  CreatedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Each consumer's cursor: every event up to LastID is delivered (or parked for a retry).
CREATE TABLE IF NOT EXISTS smsgw_event_cursors (
  Consumer varchar(255) NOT NULL PRIMARY KEY,
  LastID bigint unsigned NOT NULL,
  UpdatedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Which daemon delivers a consumer's events now (several daemons on one database: one
-- each, the others take over when its lease runs out).
CREATE TABLE IF NOT EXISTS smsgw_event_leases (
  Consumer varchar(255) NOT NULL PRIMARY KEY,
  Holder varchar(255) NOT NULL,
  LeasedUntil timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Events a consumer could not deliver yet, and when it tries again.
CREATE TABLE IF NOT EXISTS smsgw_event_retries (
  Consumer varchar(255) NOT NULL,
  EventID bigint unsigned NOT NULL,
  Attempts integer NOT NULL,
  NextAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  LastError text NOT NULL,
  PRIMARY KEY (Consumer, EventID)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- How a face queued a message (outbox ID): who, with which idempotency key, and where its
-- delivery reports go (Kannel's dlr-url and dlr-mask).
CREATE TABLE IF NOT EXISTS smsgw_submissions (
  ID integer unsigned NOT NULL PRIMARY KEY,
  Face varchar(16) NOT NULL,
  Owner varchar(255) NOT NULL,
  IdemKey varchar(255),
  Destination varchar(255) NOT NULL,
  Sender varchar(255) NOT NULL,
  DlrUrl text,
  DlrMask integer NOT NULL,
  CreatedAt timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY smsgw_submissions_owner (Owner, ID),
  KEY smsgw_submissions_key (Owner, IdemKey)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
