//! The key table: every key with its default, meaning, an example and a bad value. It
//! feeds `config check --keys`, smsgw.toml(5) and the completions; tests hold the parser to
//! it.

use super::Config;

/// One documented key.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// `daemon`, `storage`, `phone` (each `[[phone]]`), `transport`, `sending`, `receiving`,
    /// `hooks`.
    pub section: &'static str,
    pub name: &'static str,
    /// The default as TOML, or `(required)`, or `(none)`.
    pub default: &'static str,
    pub doc: &'static str,
    /// A valid value, as TOML.
    pub example: &'static str,
    /// An invalid value, as TOML (for the tests of error messages).
    pub bad: &'static str,
}

pub(super) const REQUIRED: &str = "(required)";
pub(super) const NONE: &str = "(none)";

/// Every key of the file.
pub const KEYS: &[Key] = &[
    Key { section: "daemon", name: "state_dir", default: "\"/var/lib/smsgw\"", doc: "Directory for the daemon's own state (the rejected-PIN memory).", example: "\"/var/lib/smsgw\"", bad: "1" },
    Key { section: "daemon", name: "control_socket", default: "\"/run/smsgw/control.sock\"", doc: "Unix socket of the running daemon, used by inject and monitor.", example: "\"/run/smsgw/control.sock\"", bad: "true" },
    Key { section: "daemon", name: "modem_search", default: "[\"/dev/serial/by-id/*\", \"/dev/ttyUSB*\", \"/dev/ttyACM*\"]", doc: "Where phones bound by identity (device = \"imei:...\", \"imsi:...\", \"iccid:...\") look for their modem, and what `smsgw modems` lists: glob patterns of serial ports, searched in order.", example: "[\"/dev/serial/by-id/*\"]", bad: "\"/dev/ttyUSB*\"" },
    Key { section: "daemon", name: "pid_file", default: "\"/run/smsgw/smsgw.pid\"", doc: "PID file; a second daemon with the same one refuses to start.", example: "\"/run/smsgw/smsgw.pid\"", bad: "[1]" },
    Key { section: "daemon", name: "log", default: "\"stderr\"", doc: "Where logs go: stderr (journald-friendly) or a file path.", example: "\"/var/log/smsgw.log\"", bad: "5" },
    Key { section: "daemon", name: "log_level", default: "\"info\"", doc: "error, warn, info, debug or trace (debug shows every AT line, PINs masked).", example: "\"debug\"", bad: "\"loud\"" },
    Key { section: "storage", name: "kind", default: "\"sqlite\"", doc: "Storage service: sqlite (Gammu's schema in an SQLite file), postgres or mysql (Gammu's schema on a server; mysql also serves MariaDB), files (Gammu's folder layout), nav (NAV's SMS alert queue, profiles.smsq in NAV's PostgreSQL database: url, host, user, database and the password settings apply; user and database default to nav), or null (store nothing).", example: "\"postgres\"", bad: "\"oracle\"" },
    Key { section: "storage", name: "path", default: "\"/var/lib/smsgw/smsgw.db\"", doc: "SQLite database file; created with Gammu's schema when missing.", example: "\"/var/lib/smsgw/smsgw.db\"", bad: "0" },
    Key { section: "storage", name: "busy_timeout", default: "5000", doc: "Milliseconds to wait for an SQLite lock held by another program (Kalkun, a script).", example: "10000", bad: "-5" },
    Key { section: "storage", name: "url", default: "\"\"", doc: "postgres/mysql: server URL, e.g. postgres://smsd@db.example.org/smsd or mysql://smsd@localhost/smsd; host, port, user, database and the password settings fill in what it leaves out.", example: "\"postgres://smsd@127.0.0.1/smsd\"", bad: "5" },
    Key { section: "storage", name: "host", default: "\"\"", doc: "postgres/mysql: server host name or address (default localhost).", example: "\"db.example.org\"", bad: "1" },
    Key { section: "storage", name: "port", default: "0", doc: "postgres/mysql: server port; 0 for the default (5432, 3306).", example: "5433", bad: "70000" },
    Key { section: "storage", name: "user", default: "\"\"", doc: "postgres/mysql: user name (default smsd).", example: "\"smsd\"", bad: "1" },
    Key { section: "storage", name: "database", default: "\"\"", doc: "postgres/mysql: database name (default smsd, Gammu's).", example: "\"smsd\"", bad: "1" },
    Key { section: "storage", name: "password", default: "\"\"", doc: "postgres/mysql: the password, written in the config (prefer password_file or password_env; never logged).", example: "\"secret\"", bad: "1" },
    Key { section: "storage", name: "password_file", default: "\"\"", doc: "postgres/mysql: a file whose first line is the password (e.g. a systemd credential).", example: "\"/etc/smsgw/db-password\"", bad: "1" },
    Key { section: "storage", name: "password_env", default: "\"\"", doc: "postgres/mysql: name of an environment variable holding the password.", example: "\"SMSGW_DB_PASSWORD\"", bad: "1" },
    Key { section: "storage", name: "tls", default: "\"prefer\"", doc: "postgres/mysql: prefer (TLS when the server offers it), require, or disable.", example: "\"require\"", bad: "\"always\"" },
    Key { section: "storage", name: "pool_size", default: "4", doc: "postgres/mysql/nav: connections kept open to the server (nav: at least one per phone and transport, plus two).", example: "8", bad: "0" },
    Key { section: "storage", name: "poll_interval", default: "1000", doc: "Milliseconds between cheap checks for rows that other programs inserted (the wake-up on MySQL; a safety net behind NOTIFY on PostgreSQL).", example: "500", bad: "0" },
    Key { section: "storage", name: "inbox_path", default: "\"/var/spool/gammu/inbox\"", doc: "files: folder received messages are written to, one file per part named as Gammu names them (IN<date>_<time>_<serial>_<sender>_<part>.txt).", example: "\"/var/spool/sms/inbox\"", bad: "1" },
    Key { section: "storage", name: "outbox_path", default: "\"/var/spool/gammu/outbox\"", doc: "files: folder of messages to send (Gammu's OUT...txt names; smsgw inject writes them).", example: "\"/var/spool/sms/outbox\"", bad: "1" },
    Key { section: "storage", name: "sent_path", default: "\"/var/spool/gammu/sent\"", doc: "files: folder sent messages are moved to (with a .report file once status reports arrive).", example: "\"/var/spool/sms/sent\"", bad: "1" },
    Key { section: "storage", name: "error_path", default: "\"/var/spool/gammu/error\"", doc: "files: folder messages that failed are moved to, with a .error file saying why.", example: "\"/var/spool/sms/error\"", bad: "1" },
    Key { section: "storage", name: "inbox_format", default: "\"unicode\"", doc: "files: unicode (UTF-16 with a byte-order mark, Gammu's and playSMS's) or standard (UTF-8).", example: "\"standard\"", bad: "\"detail\"" },
    Key { section: "storage", name: "time_zone", default: "\"\"", doc: "postgres/mysql: zone of the stored local times (Europe/Warsaw, +02:00); empty for the host's local zone, as gammu-smsd writes them.", example: "\"Europe/Warsaw\"", bad: "3" },
    Key { section: "storage", name: "delay", default: "30", doc: "nav: seconds a phone's alerts wait after their SMS failed (NAV's delay); other phones go on.", example: "60", bad: "\"30s\"" },
    Key { section: "storage", name: "delay_factor", default: "1.5", doc: "nav: the wait is multiplied by this after each further failure (NAV's delayfactor).", example: "2.0", bad: "\"x\"" },
    Key { section: "storage", name: "max_delay", default: "3600", doc: "nav: the longest wait between tries for one phone (NAV's maxdelay).", example: "600", bad: "-5" },
    Key { section: "storage", name: "autocancel", default: "\"\"", doc: "nav: a PostgreSQL interval; queued alerts older than this are cancelled (sent = 'I') once at start, as NAV's autocancel.", example: "\"1 day\"", bad: "1" },
    Key { section: "storage", name: "expire_after", default: "\"\"", doc: "nav: a PostgreSQL interval; an alert not sent within it is cancelled (sent = 'I', logged), each on its own age; empty: alerts wait for ever (NAV instead dropped the whole queue after five failed scans).", example: "\"6 hours\"", bad: "[]" },
    Key { section: "phone", name: "id", default: REQUIRED, doc: "PhoneID: names the modem; outbox rows with this SenderID go only to it.", example: "\"modem1\"", bad: "3" },
    Key { section: "phone", name: "device", default: REQUIRED, doc: "Serial device (prefer /dev/serial/by-id/...); or the modem's identity, found wherever it is plugged in: imei:<IMEI> (the modem), iccid:<ICCID> (the SIM card), imsi:<IMSI> (the subscriber, readable only from a SIM without PIN), see [daemon] modem_search and `smsgw modems`; tcp://host:port; or sim for the built-in simulated modem.", example: "\"imei:490154203237518\"", bad: "false" },
    Key { section: "phone", name: "baud", default: "115200", doc: "Serial speed.", example: "9600", bad: "\"fast\"" },
    Key { section: "phone", name: "pin", default: NONE, doc: "SIM PIN, entered when the SIM asks; a PIN the SIM rejected is never sent again by itself.", example: "\"1234\"", bad: "1234" },
    Key { section: "phone", name: "smsc", default: NONE, doc: "SMSC number for outgoing messages; without it the modem's own.", example: "\"+48602000000\"", bad: "48602000000" },
    Key { section: "phone", name: "receive_frequency", default: "15", doc: "Seconds between sweeps of the modem's storage (new messages are also read at once on +CMTI).", example: "30", bad: "\"often\"" },
    Key { section: "phone", name: "status_frequency", default: "60", doc: "Seconds between signal/battery/network refreshes; 0 disables.", example: "120", bad: "-1" },
    Key { section: "phone", name: "reset_frequency", default: "0", doc: "Seconds between preventive modem resets (AT+CFUN=1,1); 0 disables.", example: "86400", bad: "1.5" },
    Key { section: "phone", name: "send", default: "true", doc: "Send messages through this modem.", example: "false", bad: "\"no\"" },
    Key { section: "phone", name: "receive", default: "true", doc: "Receive messages from this modem.", example: "false", bad: "1" },
    Key { section: "phone", name: "hangup_calls", default: "false", doc: "Hang up incoming calls.", example: "true", bad: "\"yes\"" },
    Key { section: "phone", name: "vendor_init", default: NONE, doc: "AT commands sent after identify, replacing the vendor defaults (Huawei AT^CURC=0, ZTE); [] sends none.", example: "[\"AT^CURC=0\"]", bad: "\"AT^CURC=0\"" },
    Key { section: "phone", name: "cnmi", default: NONE, doc: "AT+CNMI setting tried first (e.g. \"2,1,0,2,0\"); the usual fallbacks follow.", example: "\"2,1,0,2,0\"", bad: "2" },
    Key { section: "phone", name: "command_timeout", default: "10", doc: "Seconds to wait for the answer to an AT command.", example: "5", bad: "\"5s\"" },
    Key { section: "phone", name: "send_timeout", default: "60", doc: "Seconds to wait for +CMGS after a message went out (busy networks are slow).", example: "90", bad: "[]" },
    Key { section: "phone", name: "rate", default: NONE, doc: "At most this many sends per period (20/min, 100/hour, 10/2s); the rest waits in the outbox. Counted from sentitems, so it survives a restart.", example: "\"20/min\"", bad: "\"fast\"" },
    Key { section: "phone", name: "daily_limit", default: NONE, doc: "At most this many sends per local day (a SIM plan's cap); the rest waits for tomorrow.", example: "500", bad: "-3" },
    Key { section: "phone", name: "balance_code", default: NONE, doc: "USSD code answering with the SIM's balance (prepaid cards); asked after connecting and every balance_frequency seconds, shown by monitor and the metrics.", example: "\"*100#\"", bad: "100" },
    Key { section: "phone", name: "balance_frequency", default: "86400", doc: "Seconds between balance checks when balance_code is set (at least 60).", example: "3600", bad: "\"daily\"" },
    Key { section: "transport", name: "id", default: REQUIRED, doc: "The route id: what outbox.SenderID names to send through this transport, and what sentitems.SenderID records.", example: "\"gw1\"", bad: "1" },
    Key { section: "transport", name: "kind", default: REQUIRED, doc: "smpp (an SMSC over SMPP 3.4), http (a web gateway), soap (a SOAP 1.1 call), mail (e-mail to an SMS gateway), debug (logs only) or failover (other transports tried in order).", example: "\"http\"", bad: "\"pigeon\"" },
    Key { section: "transport", name: "url", default: "\"\"", doc: "http/soap: the gateway URL, a template: {phone}, {text}, {sender}, {username}, {password}, {id} (and NAV's %(phone)s, %(sms)s) are replaced, percent-encoded (+ becomes %2B).", example: "\"https://gw.example.org/send?to={phone}&msg={text}\"", bad: "3" },
    Key { section: "transport", name: "method", default: "\"\"", doc: "http: GET or POST; empty: POST when a body is set, else GET.", example: "\"POST\"", bad: "\"PUT\"" },
    Key { section: "transport", name: "body", default: "\"\"", doc: "http/soap/mail: the body template; values are escaped for the content type (form, JSON, XML). Empty: phone={phone}&text={text} for an http POST, Boost's sendMessage envelope for soap, {text} for mail.", example: "\"{\\\"to\\\": \\\"{phone}\\\", \\\"text\\\": \\\"{text}\\\"}\"", bad: "\"{nope}\"" },
    Key { section: "transport", name: "content_type", default: "\"\"", doc: "http/soap: the body's Content-Type; empty: JSON for a body starting with {, XML for soap, else a form.", example: "\"application/json\"", bad: "[]" },
    Key { section: "transport", name: "headers", default: "{}", doc: "http/soap: extra request headers; values are templates (e.g. an API key from {password}).", example: "{ \"X-Api-Key\" = \"{password}\" }", bad: "{ \"Bad Name\" = \"x\" }" },
    Key { section: "transport", name: "auth", default: "\"\"", doc: "http/soap: none, basic (username and password) or bearer (the password is the token).", example: "\"basic\"", bad: "\"digest\"" },
    Key { section: "transport", name: "username", default: "\"\"", doc: "http/soap/mail: the user for basic auth, {username}, or the SMTP login; smpp: the bind's system_id (write it system_id there).", example: "\"smsgw\"", bad: "1" },
    Key { section: "transport", name: "system_id", default: "\"\"", doc: "smpp: the bind's system_id, the account at the SMSC (another name for username).", example: "\"smsgw\"", bad: "1" },
    Key { section: "transport", name: "password", default: "\"\"", doc: "http/soap/mail/smpp: the password or token, written in the config (prefer password_file or password_env; never logged).", example: "\"secret\"", bad: "1" },
    Key { section: "transport", name: "password_file", default: "\"\"", doc: "http/soap/mail/smpp: a file whose first line is the password or token.", example: "\"/etc/smsgw/gw-password\"", bad: "1" },
    Key { section: "transport", name: "password_env", default: "\"\"", doc: "http/soap/mail/smpp: an environment variable holding the password or token.", example: "\"SMSGW_GW_TOKEN\"", bad: "2" },
    Key { section: "transport", name: "timeout", default: "30", doc: "Seconds a send (an HTTP request, an SMTP dialogue, a submit_sm's response) may take; after that its outcome is unknown (retried on the same transport, never failed over).", example: "10", bad: "\"10s\"" },
    Key { section: "transport", name: "success_pattern", default: "\"\"", doc: "http/soap: a regular expression the answer body must match to count as sent (gateways that answer 200 with an error).", example: "\"^OK\"", bad: "\"(\"" },
    Key { section: "transport", name: "id_pattern", default: "\"\"", doc: "http/soap: a regular expression whose first group is the gateway's message id.", example: "\"id=(\\\\w+)\"", bad: "\"[\"" },
    Key { section: "transport", name: "sender", default: "\"\"", doc: "http/soap: {sender} in templates; mail: the From address (default smsgw@<host name>); smpp: the source address (a name is sent as alphanumeric, +digits as international).", example: "\"NAV\"", bad: "[1]" },
    Key { section: "transport", name: "soap_method", default: "\"\"", doc: "soap: the operation of the default envelope (empty: sendMessage).", example: "\"sendMessage\"", bad: "1" },
    Key { section: "transport", name: "soap_namespace", default: "\"\"", doc: "soap: the namespace of the operation.", example: "\"urn:boost\"", bad: "1" },
    Key { section: "transport", name: "soap_action", default: "\"\"", doc: "soap: the SOAPAction header.", example: "\"urn:boost#sendMessage\"", bad: "1" },
    Key { section: "transport", name: "host", default: "\"\"", doc: "mail: the SMTP server (empty: localhost); smpp: the SMSC.", example: "\"smtp.example.org\"", bad: "1" },
    Key { section: "transport", name: "port", default: "0", doc: "mail: the SMTP port (0: 25, 587 or 465 by tls); smpp: the SMSC's port (0: 2775).", example: "587", bad: "\"smtp\"" },
    Key { section: "transport", name: "tls", default: "\"\"", doc: "mail: none, starttls (the default) or tls. smpp: none (the default) or tls (TLS from the start, the certificate checked against the usual roots and ca_file, for the name in host).", example: "\"none\"", bad: "\"maybe\"" },
    Key { section: "transport", name: "ca_file", default: "\"\"", doc: "smpp with tls: a PEM file of CA certificates to trust besides the usual roots (an SMSC whose certificate comes from its own CA).", example: "\"/etc/smsgw/smsc-ca.pem\"", bad: "3" },
    Key { section: "transport", name: "to", default: "\"\"", doc: "mail: the recipient template, e.g. sms@gw.example.org (NAV's mailaddr) or {phone}@sms.example.org.", example: "\"sms@gw.example.org\"", bad: "\"{number}@x\"" },
    Key { section: "transport", name: "subject", default: "\"\"", doc: "mail: the subject template (empty: NAV's sms {phone}).", example: "\"sms {phone}\"", bad: "\"{subj}\"" },
    Key { section: "transport", name: "result", default: "\"\"", doc: "debug: what the transport answers: success (the default), fail, error, permanent, rejected or unknown.", example: "\"fail\"", bad: "\"maybe\"" },
    Key { section: "transport", name: "system_type", default: "\"\"", doc: "smpp: the bind's system_type, when the SMSC wants one.", example: "\"VMA\"", bad: "1" },
    Key { section: "transport", name: "address_range", default: "\"\"", doc: "smpp: the bind's address_range, when the SMSC wants one (the numbers a receiver serves).", example: "\"^4860\"", bad: "1" },
    Key { section: "transport", name: "interface_version", default: "52", doc: "smpp: the bind's interface_version: 52 (0x34) for SMPP 3.4; 51 (0x33) for an SMSC that wants 3.3.", example: "51", bad: "\"3.4\"" },
    Key { section: "transport", name: "bind", default: "\"transceiver\"", doc: "smpp: transceiver (one connection that sends and receives), transmitter (sends only: no receipts, no messages in), or transmitter+receiver (a second connection bound as receiver, for SMSCs that want that). Received messages go to the inbox like a modem's (parts of long messages joined by UDH or SAR); receipts update the sent part's status by the SMSC's message id.", example: "\"transmitter\"", bad: "\"receiver\"" },
    Key { section: "transport", name: "default_alphabet", default: "\"gsm\"", doc: "smpp: what data_coding 0 (the SMSC's default alphabet) means to this SMSC: gsm (GSM 03.38, one septet per octet, the usual SMPP form), gsm-packed (GSM 03.38 packed 7-bit), or latin1 (ISO-8859-1: GSM text goes as data_coding 3, and a character with no Latin-1 code, like the euro sign, makes the message fail with that reason). Received messages in data_coding 0 are read the same way.", example: "\"latin1\"", bad: "\"utf8\"" },
    Key { section: "transport", name: "rate", default: "0", doc: "smpp: at most this many submit_sm a second on the link (spaced evenly; 0: no limit besides the window; the window is then at most 20 seconds' worth, so that a claimed batch goes out within its lease). An SMSC that still answers ESME_RTHROTTLED makes the messages wait and go later without using a retry.", example: "50", bad: "-5" },
    Key { section: "transport", name: "window", default: "10", doc: "smpp: how many submit_sm (1 to 1000) may wait for their responses at once (the send window: the daemon claims up to this many messages at a time, sends them at once, a message's parts in order, and records them in one commit). A crash or a dropped link can leave up to this many messages in an unknown state: they are sent again once.", example: "64", bad: "-1" },
    Key { section: "transport", name: "enquire_link", default: "30", doc: "smpp: seconds between enquire_links; the link is dropped and bound again when one is not answered within timeout.", example: "60", bad: "\"1m\"" },
    Key { section: "transport", name: "long_messages", default: "\"\"", doc: "smpp: how a long message goes: udh (the default: each part with its concatenation header, esm_class 0x40), sar (each part with the sar_msg_ref_num, sar_total_segments and sar_segment_seqnum TLVs, for SMSCs that want them), or payload (the whole message in one submit_sm, in the message_payload TLV when it is longer than 254 octets; the SMSC splits it; the receipt names the first part).", example: "\"sar\"", bad: "\"split\"" },
    Key { section: "transport", name: "data_coding_overrides", default: "{}", doc: "smpp: data_coding values the SMSC uses its own way in what it delivers, each with the codec to read it with: gsm, gsm-packed, latin1, ascii, ucs2, iso-2022-jp, iso-8859-5, iso-8859-8 or binary (vumi2's data_coding_overrides; 0 follows default_alphabet otherwise).", example: "{ \"3\" = \"iso-8859-5\" }", bad: "{ \"0\" = \"klingon\" }" },
    Key { section: "transport", name: "receipt_regex", default: "\"\"", doc: "smpp: a regular expression for the text of the SMSC's receipts, with named groups id and stat (and done_date, YYMMDDhhmm[ss]), for an SMSC that does not write SMPP 3.4's appendix B (used when the receipted_message_id and message_state TLVs are absent).", example: "\"^ref=(?P<id>\\\\w+);st=(?P<stat>\\\\w+)\"", bad: "\"id:(?P<id>\\\\w+)\"" },
    Key { section: "transport", name: "receipt_status", default: "{}", doc: "smpp: receipt stat: values and what they mean (delivered, failed or pending), looked at before the usual ones (DELIVRD, UNDELIV, EXPIRED, REJECTD, ENROUTE ...).", example: "{ \"0\" = \"delivered\", \"NACKED\" = \"failed\" }", bad: "{ \"0\" = \"ok\" }" },
    Key { section: "transport", name: "intermediate_notification", default: "false", doc: "smpp: with a report, also ask for intermediate notifications (registered_delivery 0x10): the SMSC's enroute receipts, reported as pending (a pending status report, an AMQP delivery_report pending, Kannel's dlr type 4).", example: "true", bad: "\"yes\"" },
    Key { section: "transport", name: "sme_originated_acks", default: "[]", doc: "smpp: with a report, also ask for the recipient's acknowledgements: delivery (registered_delivery 0x04) and/or user (0x08); an acknowledgement naming the message counts as its delivery.", example: "[\"delivery\"]", bad: "[\"read\"]" },
    Key { section: "transport", name: "members", default: "[]", doc: "failover: the ids of the transports to try, in order; a member sends only through its list.", example: "[\"d\"]", bad: "[\"nope\"]" },
    Key { section: "transport", name: "failures", default: "3", doc: "failover: failures in a row after which a member is skipped for cooldown seconds (a route-down answer skips it at once).", example: "5", bad: "-1" },
    Key { section: "transport", name: "cooldown", default: "60", doc: "failover: seconds a failing member is skipped; then one message tries it again.", example: "300", bad: "\"1m\"" },
    Key { section: "transport", name: "prefixes", default: "[]", doc: "In a failover list: only numbers starting with one of these go through this transport; empty: every number.", example: "[\"+47\"]", bad: "\"+47\"" },
    Key { section: "sending", name: "max_retries", default: "1", doc: "Attempts after the first before a message ends as SendingError (Gammu's MaxRetries).", example: "3", bad: "-1" },
    Key { section: "sending", name: "retry_timeout", default: "600", doc: "Seconds before a failed message is tried again (Gammu's RetryTimeout).", example: "60", bad: "\"10m\"" },
    Key { section: "sending", name: "delivery_reports", default: "false", doc: "Ask for a status report when the outbox row says DeliveryReport='default'.", example: "true", bad: "\"sms\"" },
    Key { section: "sending", name: "delivery_report_delay", default: "600", doc: "Seconds between a send and its report's time stamp that still match (plus an hour for DST).", example: "3600", bad: "false" },
    Key { section: "sending", name: "validity", default: "\"none\"", doc: "Validity of messages that do not set one: none, max, HOUR, 6HOURS, DAY, 3DAYS, WEEK, or 30m, 2h, 3d, 1w.", example: "\"3d\"", bad: "\"soon\"" },
    Key { section: "receiving", name: "multipart_timeout", default: "600", doc: "Seconds to wait for missing parts of a concatenated message before storing what arrived.", example: "3600", bad: "\"1h\"" },
    Key { section: "receiving", name: "include_numbers", default: "[]", doc: "When not empty, only messages from these numbers are received.", example: "[\"+48600100200\"]", bad: "\"+48600100200\"" },
    Key { section: "receiving", name: "exclude_numbers", default: "[]", doc: "Messages from these numbers are not received (they stay on the SIM).", example: "[\"+48600100200\"]", bad: "[1]" },
    Key { section: "receiving", name: "include_numbers_file", default: NONE, doc: "File of numbers (one a line) added to include_numbers.", example: "\"/etc/smsgw/include.txt\"", bad: "7" },
    Key { section: "receiving", name: "exclude_numbers_file", default: NONE, doc: "File of numbers (one a line) added to exclude_numbers.", example: "\"/etc/smsgw/exclude.txt\"", bad: "true" },
    Key { section: "hooks", name: "run_on_receive", default: NONE, doc: "Program run once for every received message or status report, after it was stored, with the inbox IDs (or file names) as arguments and Gammu's SMS_* and DECODED_* variables (Gammu's RunOnReceive).", example: "\"/usr/local/bin/on-sms\"", bad: "1" },
    Key { section: "hooks", name: "run_on_sent", default: NONE, doc: "Program run after a message was sent, with its outbox ID (Gammu's RunOnSent).", example: "\"/usr/local/bin/on-sent\"", bad: "[1]" },
    Key { section: "hooks", name: "run_on_failure", default: NONE, doc: "Program run after each failed attempt to send a message (its ID; SMSGW_FINAL=yes when no retry is left, SMSGW_ERROR the reason) and with INIT when the modem cannot be set up (Gammu's RunOnFailure).", example: "\"/usr/local/bin/on-failure\"", bad: "false" },
    Key { section: "hooks", name: "run_on_incoming_call", default: NONE, doc: "Program run on an incoming call, with the caller's number (Gammu's RunOnIncomingCall).", example: "\"/usr/local/bin/on-call\"", bad: "2" },
    Key { section: "hooks", name: "run_on_report", default: NONE, doc: "Program run for each status report once it is applied, with the sentitems ID it matched as argument (none when it matched nothing): SMSGW_DELIVERY is DeliveryOK, DeliveryPending, DeliveryFailed or DeliveryUnknown, SMSGW_STATUS the TP-ST value, SMS_1_NUMBER the recipient, SMS_1_REFERENCE the TP-MR.", example: "\"/usr/local/bin/on-report\"", bad: "3" },
    Key { section: "hooks", name: "timeout", default: "60", doc: "Seconds a hook may run before it is killed.", example: "10", bad: "\"1m\"" },
    Key { section: "spool", name: "dir", default: "\"\"", doc: "Directory watched for message files (smstools3 format, or Gammu's OUT...txt files) to queue into the storage within milliseconds; write each file under another name (a dot name, or another directory) and rename it in. Empty watches nothing.", example: "\"/var/spool/sms/outgoing\"", bad: "7" },
    Key { section: "spool", name: "rescan", default: "5", doc: "Seconds between rescans of the spool directory, the safety net behind inotify; a file is taken by a rescan only when unchanged since the previous one.", example: "10", bad: "0" },
    Key { section: "spool", name: "queues", default: "{}", doc: "smstools3 Queue: names mapped to PhoneIDs (a name not listed is taken as the PhoneID).", example: "{ alerts = \"modem1\" }", bad: "[1]" },
    Key { section: "retention", name: "days", default: "0", doc: "Once a day, delete inbox and sent items older than this many days (as `smsgw db prune`); 0 keeps everything.", example: "90", bad: "\"90d\"" },
    Key { section: "metrics", name: "listen", default: "\"\"", doc: "host:port of a Prometheus endpoint (/metrics); empty serves nothing. Keep it on 127.0.0.1 unless a firewall protects it.", example: "\"127.0.0.1:9745\"", bad: "9745" },
    Key { section: "http", name: "listen", default: "\"\"", doc: "host:port of the HTTP face: Kannel's /cgi-bin/sendsms, the REST API under /api/v1, /status and /health (and /metrics); empty serves nothing. Needs sqlite, postgres or mysql storage.", example: "\"127.0.0.1:13013\"", bad: "13013" },
    Key { section: "http", name: "max_body", default: "65536", doc: "Largest request body in bytes; a larger one is answered 413.", example: "16384", bad: "\"64k\"" },
    Key { section: "http", name: "timeout", default: "10", doc: "Seconds a request may take, headers and body: a slow client is cut off (408).", example: "30", bad: "\"10s\"" },
    Key { section: "http", name: "max_connections", default: "1024", doc: "Connections served at once; more wait in the listen backlog.", example: "256", bad: "-1" },
    Key { section: "http", name: "max_parts", default: "10", doc: "Most parts (SMS) one message may need; a longer text is refused with how many it needs.", example: "5", bad: "\"many\"" },
    Key { section: "http", name: "public_status", default: "false", doc: "Serve /status and /status.json without credentials (else any [[http.user]] may see them).", example: "true", bad: "\"yes\"" },
    Key { section: "http", name: "tls_cert", default: NONE, doc: "HTTPS: the certificate chain (PEM), read when the daemon starts; with tls_key. Without both, plain HTTP.", example: "\"/etc/smsgw/tls/cert.pem\"", bad: "1" },
    Key { section: "http", name: "tls_key", default: NONE, doc: "HTTPS: the certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).", example: "\"/etc/smsgw/tls/key.pem\"", bad: "1" },
    Key { section: "http.user", name: "name", default: REQUIRED, doc: "The user name: Kannel's username, HTTP basic's user, the owner of the messages it queues.", example: "\"shop\"", bad: "1" },
    Key { section: "http.user", name: "password", default: "\"\"", doc: "Kannel's password and HTTP basic's password (compared in constant time, never logged).", example: "\"secret\"", bad: "1" },
    Key { section: "http.user", name: "password_hash", default: "\"\"", doc: "The password as an argon2 hash instead of password (a PHC string made by `smsgw config hash-password`): the config then holds no password.", example: "\"$argon2id$v=19$m=19456,t=2,p=1$QmIEs7nQlI3uyICgSn2OGA$KB5jjmzUIZHgKdYryN4TM6ZVFfwomD4mjlU7u2FpMoY\"", bad: "\"secret\"" },
    Key { section: "http.user", name: "token", default: "\"\"", doc: "A token for `Authorization: Bearer`; empty allows none.", example: "\"5f0c6d0e9b1a\"", bad: "1" },
    Key { section: "http.user", name: "routes", default: "[]", doc: "Phone or transport ids the user may send through (Kannel's smsc); empty allows all. Naming another is answered 403.", example: "[\"modem1\"]", bad: "\"modem1\"" },
    Key { section: "http.user", name: "rate", default: "0.0", doc: "Messages per second the user may queue (a burst of one second's worth); more are answered 429. 0 for no limit.", example: "5.0", bad: "\"fast\"" },
    Key { section: "webhooks", name: "received", default: "\"\"", doc: "URL POSTed a JSON event for every received message (its parts joined).", example: "\"https://app.example.org/sms/in\"", bad: "1" },
    Key { section: "webhooks", name: "report", default: "\"\"", doc: "URL POSTed a JSON event for every status report (delivered, failed, pending).", example: "\"https://app.example.org/sms/report\"", bad: "1" },
    Key { section: "webhooks", name: "sent", default: "\"\"", doc: "URL POSTed a JSON event when a message went out (the modem or SMSC took every part).", example: "\"https://app.example.org/sms/sent\"", bad: "1" },
    Key { section: "webhooks", name: "failed", default: "\"\"", doc: "URL POSTed a JSON event when a message failed for good or was cancelled.", example: "\"https://app.example.org/sms/failed\"", bad: "1" },
    Key { section: "webhooks", name: "secret", default: "\"\"", doc: "Key of the X-Smsgw-Signature header: sha256= and the hex HMAC-SHA256 of the body. Empty signs nothing.", example: "\"a-long-random-string\"", bad: "1" },
    Key { section: "webhooks", name: "timeout", default: "10", doc: "Seconds to wait for a webhook's (or dlr-url's) answer; no answer is a failure, retried.", example: "5", bad: "0" },
    Key { section: "webhooks", name: "retry_hours", default: "48", doc: "Hours an event that cannot be delivered is retried, with back-off from 1 s to 10 min, before it is dropped (logged). Applies to dlr-url too.", example: "24", bad: "\"1d\"" },
    Key { section: "smpp_server", name: "listen", default: "\"\"", doc: "host:port of the SMPP 3.4 server: ESMEs (Kannel, Jasmin, vumi, SMPP libraries) bind to it and send through smsgw's routes; empty serves none. Needs sqlite, postgres or mysql storage.", example: "\"127.0.0.1:2775\"", bad: "2775" },
    Key { section: "smpp_server", name: "tls_listen", default: "\"\"", doc: "host:port for SMPP over TLS, with tls_cert and tls_key; empty serves none.", example: "\"0.0.0.0:3550\"", bad: "\"port 3550\"" },
    Key { section: "smpp_server", name: "tls_cert", default: NONE, doc: "SMPP over TLS: the certificate chain (PEM), read at the start.", example: "\"/etc/smsgw/tls/cert.pem\"", bad: "1" },
    Key { section: "smpp_server", name: "tls_key", default: NONE, doc: "SMPP over TLS: the certificate's private key (PEM).", example: "\"/etc/smsgw/tls/key.pem\"", bad: "1" },
    Key { section: "smpp_server", name: "system_id", default: "\"smsgw\"", doc: "The system_id binds are answered with (1 to 15 characters).", example: "\"GW1\"", bad: "\"a-system-id-too-long\"" },
    Key { section: "smpp_server", name: "window", default: "64", doc: "Requests of one bind handled at once (submit_sm being committed), and deliver_sm sent to it awaiting an answer; a client with more waits.", example: "128", bad: "0" },
    Key { section: "smpp_server", name: "max_pdu", default: "8192", doc: "Longest PDU taken, in octets; a longer command_length is answered generic_nack and the connection closed.", example: "65536", bad: "100" },
    Key { section: "smpp_server", name: "max_parts", default: "10", doc: "Most parts (SMS) one message may need; a longer one is refused with ESME_RINVMSGLEN.", example: "5", bad: "0" },
    Key { section: "smpp_server", name: "max_binds", default: "4", doc: "Binds one account may hold at once; more are refused with ESME_RBINDFAIL.", example: "8", bad: "0" },
    Key { section: "smpp_server", name: "inactivity", default: "300", doc: "Seconds without a PDU from a client (enquire_link counts) before it is unbound.", example: "120", bad: "1" },
    Key { section: "smpp_server", name: "part_timeout", default: "60", doc: "Seconds the first part of a long message (sent in parts with a UDH or the SAR TLVs) waits for the rest; the parts that came are then queued as they are. Parts are answered once the whole message is committed, so a client must send all parts within its window.", example: "30", bad: "0" },
    Key { section: "smpp_server.account", name: "system_id", default: REQUIRED, doc: "The bind's system_id (1 to 15 characters); the owner of the messages it submits.", example: "\"shop\"", bad: "\"\"" },
    Key { section: "smpp_server.account", name: "password", default: REQUIRED, doc: "The bind's password, 1 to 8 characters (compared in constant time, never logged). A wrong one is answered ESME_RINVPASWD.", example: "\"secret\"", bad: "\"far-too-long\"" },
    Key { section: "smpp_server.account", name: "bind_types", default: "[\"transmitter\", \"receiver\", \"transceiver\"]", doc: "The binds the account may make.", example: "[\"transceiver\"]", bad: "[\"outbind\"]" },
    Key { section: "smpp_server.account", name: "routes", default: "[]", doc: "Phone or transport ids the account may send through; empty allows all. Without one named, its messages go through the first listed.", example: "[\"modem1\"]", bad: "\"modem1\"" },
    Key { section: "smpp_server.account", name: "receive", default: "[]", doc: "Phone (or transport) ids whose received messages go to this account as deliver_sm, \"*\" for every one; kept until a receiver or transceiver bind takes them. A phone goes to one account.", example: "[\"modem1\"]", bad: "\"modem1\"" },
    Key { section: "smpp_server.account", name: "rate", default: "0.0", doc: "submit_sm per second the account may make (a burst of one second's worth); more are answered ESME_RTHROTTLED. 0 for no limit.", example: "50.0", bad: "-1.0" },
    Key { section: "smpp_server.account", name: "sources", default: "[]", doc: "Source addresses the account may submit with (a * at the end matches any rest); another is answered ESME_RINVSRCADR. Empty allows any.", example: "[\"NOC\", \"4790*\"]", bad: "\"NOC\"" },
    Key { section: "smpp_server.account", name: "default_alphabet", default: "\"gsm\"", doc: "What data_coding 0 means to this client, in submit_sm and in the deliver_sm it gets: gsm (GSM 03.38, one septet per octet), gsm-packed or latin1.", example: "\"latin1\"", bad: "\"ebcdic\"" },
    Key { section: "inbox_storage", name: "kind", default: NONE, doc: "With a nav [storage] (NAV's queue keeps no received messages): a second storage for received messages, with the same keys as [storage] (sqlite, postgres, mysql or files). Without it, phones do not receive.", example: "\"sqlite\"", bad: "\"pigeon\"" },
    Key { section: "amqp", name: "url", default: "\"\"", doc: "The RabbitMQ broker of the vumi transport: amqp://user:password@host:5672/vhost (%2f for the vhost /), amqps:// for TLS (rustls, the webpki roots). Empty: no AMQP. Needs sqlite, postgres or mysql storage. The password is never logged.", example: "\"amqp://smsgw:secret@127.0.0.1:5672/%2f\"", bad: "\"http://broker/\"" },
    Key { section: "amqp", name: "transport_name", default: "\"smsgw\"", doc: "vumi's transport name: smsgw consumes <name>.outbound and publishes <name>.inbound and <name>.event (queues declared durable and bound to the exchange by that name).", example: "\"sms_modems\"", bad: "\"two words\"" },
    Key { section: "amqp", name: "exchange", default: "\"vumi\"", doc: "The direct, durable exchange of the three queues (vumi's).", example: "\"vumi\"", bad: "\"\"" },
    Key { section: "amqp", name: "prefetch", default: "64", doc: "Outbound messages taken at once (unacknowledged until committed), and events or inbound messages published awaiting the broker's confirm.", example: "256", bad: "0" },
    Key { section: "amqp", name: "route", default: NONE, doc: "The phone or transport id outbound messages go through; none: the default route list.", example: "\"modem1\"", bad: "\"nowhere\"" },
    Key { section: "amqp", name: "receive", default: "[\"*\"]", doc: "Phone (or transport) ids whose received messages are published as user_message on <name>.inbound; \"*\" for every one, [] for none. Kept in the storage until the broker confirmed them.", example: "[\"modem1\"]", bad: "\"modem1\"" },
    Key { section: "amqp", name: "delivery_reports", default: "true", doc: "Ask the network for a status report of each outbound message; it comes back as a delivery_report event.", example: "false", bad: "\"yes\"" },
    Key { section: "amqp", name: "max_parts", default: "10", doc: "Most parts (SMS) one message may need; a longer content is answered with a nack event.", example: "5", bad: "0" },
    Key { section: "amqp", name: "reconnect_min", default: "1", doc: "Seconds before reconnecting to a broker that went away; doubled after each failure up to reconnect_max.", example: "2", bad: "0" },
    Key { section: "amqp", name: "reconnect_max", default: "60", doc: "Longest wait between reconnections, in seconds.", example: "30", bad: "-1" },
];

/// Sections that are arrays of tables (`[[phone]]`).
pub const ARRAY_SECTIONS: &[&str] = &["phone", "transport", "http.user", "smpp_server.account"];

impl Config {
    /// The key table as text, for `smsgw config check --keys` and the man page.
    pub fn describe_keys() -> String {
        let mut out = String::new();
        let mut section = "";
        for k in KEYS {
            if k.section != section {
                section = k.section;
                let header = if ARRAY_SECTIONS.contains(&section) {
                    format!("[[{section}]]")
                } else {
                    format!("[{section}]")
                };
                out.push_str(&format!("\n{header}\n"));
            }
            out.push_str(&format!(
                "  {}  (default: {})\n      {}\n      For example: {} = {}\n",
                k.name, k.default, k.doc, k.name, k.example
            ));
        }
        out
    }
}
