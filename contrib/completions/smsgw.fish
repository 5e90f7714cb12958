# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_smsgw_global_optspecs
    string join \n h/help V/version
end

function __fish_smsgw_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_smsgw_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_smsgw_using_subcommand
    set -l cmd (__fish_smsgw_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c smsgw -n "__fish_smsgw_needs_command" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_needs_command" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "pdu" -d 'Decode, encode and measure SMS PDUs (GSM 03.40), offline'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "run" -d 'Run the daemon: drive the configured modems, send the outbox, store what arrives'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "inject" -d 'Queue a message in the configured storage (like gammu-smsd-inject)'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "doctor" -d 'Check this machine: serial ports and who holds them, the configured modems (PIN, signal, network, storage) and the database; print what to fix'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "modems" -d 'List the serial ports that answer AT: the modem (vendor, model, IMEI) and its SIM (IMSI, ICCID), what a phone binds to with device = "imei:..."'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "monitor" -d 'Show the phones\' status: signal, battery, network, counters, state'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "outbox" -d 'Look at and act on the outbox: list, show, cancel, retry'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "ussd" -d 'Send a USSD code (a prepaid balance query such as *100#) through the running daemon and print the network\'s answer'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "inbox" -d 'Look at the inbox'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "db" -d 'Create or check the database schema'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "doc" -d 'Write the man pages or shell completions (for packagers)'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "config" -d 'Check the configuration file'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "sim" -d 'Run a simulated GSM modem on a pseudo-terminal (for tests and trying smsgw without hardware); it prints the device path to use'
complete -c smsgw -n "__fish_smsgw_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and not __fish_seen_subcommand_from decode encode count help" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and not __fish_seen_subcommand_from decode encode count help" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and not __fish_seen_subcommand_from decode encode count help" -f -a "decode" -d 'Print every field of a PDU, as `AT+CMGR`/`AT+CMGL` show it (SMSC part first)'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and not __fish_seen_subcommand_from decode encode count help" -f -a "encode" -d 'Print the hex PDUs a modem is given to send TEXT to NUMBER (one line per part)'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and not __fish_seen_subcommand_from decode encode count help" -f -a "count" -d 'Print how many parts and characters a text needs (like gammu-smsd-inject -autolen)'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and not __fish_seen_subcommand_from decode encode count help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from decode" -l direction -d 'How to read TP-MTI' -r -f -a "infer\t'From TP-MTI alone: 00 DELIVER, 01 SUBMIT, 10 STATUS-REPORT'
sc-to-ms\t'SMSC to phone: DELIVER, SUBMIT-REPORT, STATUS-REPORT'
ms-to-sc\t'Phone to SMSC: DELIVER-REPORT, SUBMIT, COMMAND'"
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from decode" -l tpdu -d 'The hex is a bare TPDU, without the SMSC part in front'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from decode" -l auto-smsc -d 'Try with the SMSC part, then without (old phase-1 devices omit it)'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from decode" -l lenient -d 'Read past what the daemon reads past in messages a modem stored (user data shorter than TP-UDL says, a header flag with no user data), with a warning for each'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from decode" -l json -d 'Print the fields as one JSON object (warnings in "warnings")'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from decode" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from decode" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l text -d 'The text, as `smsgw inject` takes it (the same as TEXT)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l class -d 'Message class 0-3' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l validity -d 'Validity: none, max, HOUR, 6HOURS, DAY, 3DAYS, WEEK, or e.g. 30m, 2h, 3d, 1w' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l smsc -d 'SMSC number to put in front; without it the PDU starts with 00 (the modem\'s SMSC)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l reference -d 'Concatenation reference for a multipart message (0-255, or 0-65535 with --sixteen-bit)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l unicode -d 'Use UCS-2 even when the text fits the GSM 7-bit alphabet'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l binary -d 'TEXT is hex of 8-bit data, sent with an 8-bit DCS'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l flash -d 'Flash message (class 0: shown at once, not stored)'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l report -d 'Ask for a status (delivery) report'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l sixteen-bit -d 'Use the 16-bit concatenation reference'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -l at -d 'Print each part as the AT+CMGS command and PDU a modem is given'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from encode" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from count" -l unicode -d 'Count as UCS-2 even when the text fits the GSM 7-bit alphabet'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from count" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from count" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from help" -f -a "decode" -d 'Print every field of a PDU, as `AT+CMGR`/`AT+CMGL` show it (SMSC part first)'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from help" -f -a "encode" -d 'Print the hex PDUs a modem is given to send TEXT to NUMBER (one line per part)'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from help" -f -a "count" -d 'Print how many parts and characters a text needs (like gammu-smsd-inject -autolen)'
complete -c smsgw -n "__fish_smsgw_using_subcommand pdu; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand run" -s c -l config -d 'The config file' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand run" -s U -l user -d 'Run as this user (name or number) after start-up; it must be able to open every modem device (checked first). Under systemd use `User=` instead' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand run" -s G -l group -d 'Run with this group (default: the user\'s primary group)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand run" -s p -l pid-file -d 'Write the PID here instead of `[daemon] pid_file` (gammu-smsd\'s -p)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand run" -s d -l daemon -d 'gammu-smsd\'s -d: smsgw does not fork into the background (see --help)'
complete -c smsgw -n "__fish_smsgw_using_subcommand run" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand run" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -s c -l config -d 'The config file (for the storage and the daemon\'s control socket)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l text -d 'The text (Gammu: -text, -textutf8); read from standard input when neither this nor TEXT is given (one trailing newline dropped)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l validity -d 'Validity: HOUR, 6HOURS, DAY, 3DAYS, WEEK, MAX, or e.g. 30m, 2h, 3d, 1w' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l len -l autolen -d 'Take at most N characters of the text and split them into as many parts as needed (Gammu\'s -len and -autolen)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l max-parts -d 'Refuse a text that needs more than N parts (Gammu\'s -maxsms)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l smsc -d 'Gammu\'s -smscnumber: accepted, but Gammu\'s outbox keeps no SMSC: the modem\'s is used (set it on the SIM, or `smsc` on the phone)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l phone-id -d 'Only this phone (PhoneID) may send it (Gammu\'s SenderID)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l input-unicode -d 'Standard input is UTF-16 (Gammu\'s -inputunicode; big-endian unless a byte-order mark says otherwise)'
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l unicode -d 'Send as UCS-2 even when the text fits the GSM 7-bit alphabet'
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l flash -d 'Flash message (class 0)'
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l report -d 'Ask for a status report'
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -l sixteen-bit -d 'Tie the parts with a 16-bit reference (Gammu\'s -16bit)'
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c smsgw -n "__fish_smsgw_using_subcommand inject" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand doctor" -s c -l config -d 'The config file' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand doctor" -l probe -d 'Also send `AT` to serial ports that are not configured (GPS receivers and UPS links live on serial ports too, so this is off by default)'
complete -c smsgw -n "__fish_smsgw_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand modems" -l search -d 'Where to look: a glob pattern of serial ports as a full path, repeatable (default: the config\'s [daemon] modem_search, else /dev/serial/by-id/*, /dev/ttyUSB*, /dev/ttyACM*)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand modems" -s c -l config -d 'The config file: its search patterns, and which phone each modem serves (read when it exists; given explicitly, it must)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand modems" -l timeout -d 'Seconds a port has to answer AT before it is taken for something else (a GPS, a console, a modem\'s diagnostics port)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand modems" -l json -d 'Print a JSON array, one object per port'
complete -c smsgw -n "__fish_smsgw_using_subcommand modems" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand modems" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand monitor" -s c -l config -d 'The config file (names the control socket and the storage)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand monitor" -s n -l loops -d 'How many times to print; -1 for ever' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand monitor" -s d -l delay -d 'Seconds between prints' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand monitor" -s C -l csv -d 'One line per phone, separated by semicolons (gammu-smsd-monitor -C)'
complete -c smsgw -n "__fish_smsgw_using_subcommand monitor" -l json -d 'The status as JSON (one object per print)'
complete -c smsgw -n "__fish_smsgw_using_subcommand monitor" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand monitor" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and not __fish_seen_subcommand_from list show cancel retry help" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and not __fish_seen_subcommand_from list show cancel retry help" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and not __fish_seen_subcommand_from list show cancel retry help" -f -a "list" -d 'What is waiting: route, parts, retries, last error, who holds it'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and not __fish_seen_subcommand_from list show cancel retry help" -f -a "show" -d 'One message in full'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and not __fish_seen_subcommand_from list show cancel retry help" -f -a "cancel" -d 'Cancel a message: it moves to the sent items as Error, with who and when'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and not __fish_seen_subcommand_from list show cancel retry help" -f -a "retry" -d 'Send a message again now, with its retries reset'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and not __fish_seen_subcommand_from list show cancel retry help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from list" -s c -l config -d 'The config file (names the storage)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from list" -l json -d 'Print JSON for scripts'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from list" -l stuck -d 'Only messages retried at least once or due for more than ten minutes'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from show" -s c -l config -d 'The config file (names the storage)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from show" -l json -d 'Print JSON for scripts'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from cancel" -s c -l config -d 'The config file (names the storage)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from cancel" -l json -d 'Print JSON for scripts'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from cancel" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from cancel" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from retry" -s c -l config -d 'The config file (names the storage)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from retry" -l json -d 'Print JSON for scripts'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from retry" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from retry" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "list" -d 'What is waiting: route, parts, retries, last error, who holds it'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "show" -d 'One message in full'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "cancel" -d 'Cancel a message: it moves to the sent items as Error, with who and when'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "retry" -d 'Send a message again now, with its retries reset'
complete -c smsgw -n "__fish_smsgw_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand ussd" -s c -l config -d 'The config file (names the daemon\'s control socket)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand ussd" -l store -d 'Also store the answer in the inbox, as Gammu does (class 127)'
complete -c smsgw -n "__fish_smsgw_using_subcommand ussd" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand ussd" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and not __fish_seen_subcommand_from list help" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and not __fish_seen_subcommand_from list help" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and not __fish_seen_subcommand_from list help" -f -a "list" -d 'Received messages, newest first'
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and not __fish_seen_subcommand_from list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and __fish_seen_subcommand_from list" -s c -l config -d 'The config file (names the storage)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and __fish_seen_subcommand_from list" -l since -d 'Only since then, local time: `today`, `yesterday`, a time ago (`90m`, `2h`, `3d`, `1w`) or a date (`2026-12-01`, `2026-12-01 08:00`, `2026-12-01T08:00:00`)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and __fish_seen_subcommand_from list" -l json -d 'Print JSON for scripts'
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and __fish_seen_subcommand_from help" -f -a "list" -d 'Received messages, newest first'
complete -c smsgw -n "__fish_smsgw_using_subcommand inbox; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and not __fish_seen_subcommand_from init check prune schema help" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and not __fish_seen_subcommand_from init check prune schema help" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and not __fish_seen_subcommand_from init check prune schema help" -f -a "init" -d 'Create Gammu\'s schema (version 17) and smsgw\'s tables in the configured database, or check and complete an existing one'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and not __fish_seen_subcommand_from init check prune schema help" -f -a "check" -d 'Check the configured database without changing it: schema version, tables, time defaults. Exits 3 when it cannot be used'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and not __fish_seen_subcommand_from init check prune schema help" -f -a "prune" -d 'Delete inbox and sent items older than a number of days (e.g. `--older-than 90d`)'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and not __fish_seen_subcommand_from init check prune schema help" -f -a "schema" -d 'Print the SQL of the schema smsgw creates (Gammu\'s tables with local-time defaults, and smsgw\'s own), for a database administrator to run or compare'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and not __fish_seen_subcommand_from init check prune schema help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from init" -s c -l config -d 'The config file' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from init" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from init" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from check" -s c -l config -d 'The config file' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from prune" -s c -l config -d 'The config file' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from prune" -l older-than -d 'Age in days, written `90d` or `90`' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from prune" -l dry-run -d 'Only count what would be deleted'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from schema" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from schema" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "init" -d 'Create Gammu\'s schema (version 17) and smsgw\'s tables in the configured database, or check and complete an existing one'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check the configured database without changing it: schema version, tables, time defaults. Exits 3 when it cannot be used'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Delete inbox and sent items older than a number of days (e.g. `--older-than 90d`)'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "schema" -d 'Print the SQL of the schema smsgw creates (Gammu\'s tables with local-time defaults, and smsgw\'s own), for a database administrator to run or compare'
complete -c smsgw -n "__fish_smsgw_using_subcommand db; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and not __fish_seen_subcommand_from man completions help" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and not __fish_seen_subcommand_from man completions help" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and not __fish_seen_subcommand_from man completions help" -f -a "man" -d 'Write smsgw(8), one page per subcommand, and smsgw.toml(5) into DIR'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and not __fish_seen_subcommand_from man completions help" -f -a "completions" -d 'Write bash, zsh and fish completions into DIR'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and not __fish_seen_subcommand_from man completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and __fish_seen_subcommand_from man" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and __fish_seen_subcommand_from man" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and __fish_seen_subcommand_from completions" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and __fish_seen_subcommand_from completions" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and __fish_seen_subcommand_from help" -f -a "man" -d 'Write smsgw(8), one page per subcommand, and smsgw.toml(5) into DIR'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and __fish_seen_subcommand_from help" -f -a "completions" -d 'Write bash, zsh and fish completions into DIR'
complete -c smsgw -n "__fish_smsgw_using_subcommand doc; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and not __fish_seen_subcommand_from check import-gammu import-nav hash-password help" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and not __fish_seen_subcommand_from check import-gammu import-nav hash-password help" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and not __fish_seen_subcommand_from check import-gammu import-nav hash-password help" -f -a "check" -d 'Check a config file: every error names the file, line and key. Exits 2 when it is not usable'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and not __fish_seen_subcommand_from check import-gammu import-nav hash-password help" -f -a "import-gammu" -d 'Convert a gammu-smsd config (`/etc/gammu-smsdrc`) to smsgw\'s TOML, printed on standard output, with a comment for every key that could not be carried over'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and not __fish_seen_subcommand_from check import-gammu import-nav hash-password help" -f -a "import-nav" -d 'Convert NAV\'s smsd config (`smsd.conf`, and `db.conf` for the database) to smsgw\'s TOML with the `nav` storage, printed on standard output, with a comment for every key that could not be carried over'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and not __fish_seen_subcommand_from check import-gammu import-nav hash-password help" -f -a "hash-password" -d 'Print an argon2 hash of the password read from standard input (one line), for `[[http.user]] password_hash`: the config then holds no password'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and not __fish_seen_subcommand_from check import-gammu import-nav hash-password help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from check" -s c -l config -d 'The config file, as every other command takes it (the same as FILE)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from check" -l keys -d 'List every key with its default and meaning instead'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from import-gammu" -s c -l config -d 'The gammu-smsd config, as `gammu-smsd -c FILE` names it (the same as FILE)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from import-gammu" -l systemd-dropin -d 'Also write the systemd drop-in that lets the packaged unit write where the imported config keeps gammu-smsd\'s folders (ReadWritePaths, SupplementaryGroups) [default: /etc/systemd/system/smsgw.service.d/paths.conf]' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from import-gammu" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from import-gammu" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from import-nav" -l db-conf -d 'NAV\'s database config (host, port, database, user; the password is not copied)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from import-nav" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from import-nav" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from hash-password" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from hash-password" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Check a config file: every error names the file, line and key. Exits 2 when it is not usable'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "import-gammu" -d 'Convert a gammu-smsd config (`/etc/gammu-smsdrc`) to smsgw\'s TOML, printed on standard output, with a comment for every key that could not be carried over'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "import-nav" -d 'Convert NAV\'s smsd config (`smsd.conf`, and `db.conf` for the database) to smsgw\'s TOML with the `nav` storage, printed on standard output, with a comment for every key that could not be carried over'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "hash-password" -d 'Print an argon2 hash of the password read from standard input (one line), for `[[http.user]] password_hash`: the config then holds no password'
complete -c smsgw -n "__fish_smsgw_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l link -d 'Also make this symlink to the device (kept pointing at it after a reset)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l control -d 'Also take commands on this Unix socket (one a line; each answer goes back on the connection that asked)' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l tell -d 'Do not start a modem: send this command to the one running with `--control PATH`, print its answer and exit (1 when the answer is an error or usage)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l pin -d 'The SIM asks for this PIN (three wrong ones lock it)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l inbox -d 'File of PDUs (hex with SMSC part, one a line) stored on the SIM at start' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l record -d 'Append every PDU the modem is asked to send to this file as a JSON line' -r -F
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l index-base -d 'First storage index (0 or 1)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l capacity -d 'Message slots per memory' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l fail-sends -d 'The first N sends fail' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l fail-code -d '+CMS ERROR code of failed sends' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l fail-percent -d 'Percent of sends that fail at random with a temporary +CMS ERROR (repeatable)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l reply-delay -d 'Milliseconds before every answer' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l send-delay -d 'Extra milliseconds before the answer to a sent PDU' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l report-delay -d 'Milliseconds until a requested status report arrives' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l report-status -d 'TP-ST of status reports (0 delivered, 64 failed...)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l profile -d 'Speak a vendor\'s dialect: its identity, the unsolicited noise it drops into answers, its line ends and quirks, its profile\'s init commands (huawei-e173, huawei-e3372, zte-mf190, quectel-ec25, quectel-bg96, simcom-sim800, simcom-sim7600, sierra-mc7304, telit-le910, ublox-sara, cinterion-ehs6, siemens-mc35i, wavecom-fastrack)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l imei -d 'The modem\'s IMEI (AT+CGSN), to try phones bound with device = "imei:..."' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l imsi -d 'The SIM\'s IMSI (AT+CIMI)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l iccid -d 'The SIM\'s ICCID (AT+CCID)' -r
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l no-echo -d 'Start with echo off'
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l echo-stuck -d 'ATE0 does not turn echo off'
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l huawei -d 'Huawei-like: \\r\\r\\n line ends, ^RSSI noise, COMMAND NOT SUPPORT'
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l cpin-no-ok -d 'AT+CPIN? answers without a final OK'
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l text-only -d 'Refuse PDU mode (AT+CMGF=0): text mode only, as some devices are'
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l direct -d 'Only direct delivery (+CMT / +CDS), no storage of incoming messages'
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l no-network -d 'Not registered to a network'
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -l report-pending -d 'Send a "pending" status report before the final one'
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -s h -l help -d 'Print help'
complete -c smsgw -n "__fish_smsgw_using_subcommand sim" -s V -l version -d 'Print version'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "pdu" -d 'Decode, encode and measure SMS PDUs (GSM 03.40), offline'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "run" -d 'Run the daemon: drive the configured modems, send the outbox, store what arrives'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "inject" -d 'Queue a message in the configured storage (like gammu-smsd-inject)'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "doctor" -d 'Check this machine: serial ports and who holds them, the configured modems (PIN, signal, network, storage) and the database; print what to fix'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "modems" -d 'List the serial ports that answer AT: the modem (vendor, model, IMEI) and its SIM (IMSI, ICCID), what a phone binds to with device = "imei:..."'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "monitor" -d 'Show the phones\' status: signal, battery, network, counters, state'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "outbox" -d 'Look at and act on the outbox: list, show, cancel, retry'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "ussd" -d 'Send a USSD code (a prepaid balance query such as *100#) through the running daemon and print the network\'s answer'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "inbox" -d 'Look at the inbox'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "db" -d 'Create or check the database schema'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "doc" -d 'Write the man pages or shell completions (for packagers)'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "config" -d 'Check the configuration file'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "sim" -d 'Run a simulated GSM modem on a pseudo-terminal (for tests and trying smsgw without hardware); it prints the device path to use'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and not __fish_seen_subcommand_from pdu run inject doctor modems monitor outbox ussd inbox db doc config sim help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from pdu" -f -a "decode" -d 'Print every field of a PDU, as `AT+CMGR`/`AT+CMGL` show it (SMSC part first)'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from pdu" -f -a "encode" -d 'Print the hex PDUs a modem is given to send TEXT to NUMBER (one line per part)'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from pdu" -f -a "count" -d 'Print how many parts and characters a text needs (like gammu-smsd-inject -autolen)'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from outbox" -f -a "list" -d 'What is waiting: route, parts, retries, last error, who holds it'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from outbox" -f -a "show" -d 'One message in full'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from outbox" -f -a "cancel" -d 'Cancel a message: it moves to the sent items as Error, with who and when'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from outbox" -f -a "retry" -d 'Send a message again now, with its retries reset'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from inbox" -f -a "list" -d 'Received messages, newest first'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "init" -d 'Create Gammu\'s schema (version 17) and smsgw\'s tables in the configured database, or check and complete an existing one'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "check" -d 'Check the configured database without changing it: schema version, tables, time defaults. Exits 3 when it cannot be used'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "prune" -d 'Delete inbox and sent items older than a number of days (e.g. `--older-than 90d`)'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from db" -f -a "schema" -d 'Print the SQL of the schema smsgw creates (Gammu\'s tables with local-time defaults, and smsgw\'s own), for a database administrator to run or compare'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from doc" -f -a "man" -d 'Write smsgw(8), one page per subcommand, and smsgw.toml(5) into DIR'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from doc" -f -a "completions" -d 'Write bash, zsh and fish completions into DIR'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Check a config file: every error names the file, line and key. Exits 2 when it is not usable'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "import-gammu" -d 'Convert a gammu-smsd config (`/etc/gammu-smsdrc`) to smsgw\'s TOML, printed on standard output, with a comment for every key that could not be carried over'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "import-nav" -d 'Convert NAV\'s smsd config (`smsd.conf`, and `db.conf` for the database) to smsgw\'s TOML with the `nav` storage, printed on standard output, with a comment for every key that could not be carried over'
complete -c smsgw -n "__fish_smsgw_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "hash-password" -d 'Print an argon2 hash of the password read from standard input (one line), for `[[http.user]] password_hash`: the config then holds no password'
