//! The modem's mapping of failed sends to [`SendError`]: the `+CMS ERROR` / `+CME ERROR` codes of GSM
//! 07.05 3.2.5, 07.07 9.2 and the GSM 04.11 cause values they carry, sorted by whether
//! retrying can help.

use crate::at::Final;
use crate::route::{SendError, SendErrorKind as FailureKind};

/// The meaning of a `+CMS ERROR` code.
pub fn cms_kind(code: u16) -> (FailureKind, &'static str) {
    use FailureKind::*;
    match code {
        1 => (Rejected, "unassigned (unallocated) number"),
        8 => (Rejected, "operator determined barring"),
        10 => (Rejected, "call barred"),
        21 => (Rejected, "short message transfer rejected"),
        27 => (NotSent, "destination out of service"),
        28 => (Rejected, "unidentified subscriber"),
        29 => (Rejected, "facility rejected"),
        30 => (Rejected, "unknown subscriber"),
        38 => (NotSent, "network out of order"),
        41 => (NotSent, "temporary failure"),
        42 => (NotSent, "congestion"),
        47 => (NotSent, "resources unavailable"),
        // Many prepaid networks answer 50 when the credit is gone.
        50 => (RouteDown, "requested facility not subscribed (no credit?)"),
        69 => (Rejected, "requested facility not implemented"),
        81 => (NotSent, "invalid short message transfer reference value"),
        95 => (Rejected, "invalid message"),
        96 => (Rejected, "invalid mandatory information"),
        97 => (Rejected, "message type non-existent or not implemented"),
        98 => (
            NotSent,
            "message not compatible with short message protocol state",
        ),
        99 => (
            Rejected,
            "information element non-existent or not implemented",
        ),
        111 => (NotSent, "protocol error, unspecified"),
        127 => (NotSent, "interworking, unspecified"),
        128..=255 => (Rejected, "TP-FCS error reported by the network"),
        300 => (NotSent, "ME failure"),
        301 => (Rejected, "SMS service of ME reserved"),
        302 => (Rejected, "operation not allowed"),
        303 => (Rejected, "operation not supported"),
        304 => (Rejected, "invalid PDU mode parameter"),
        305 => (Rejected, "invalid text mode parameter"),
        310 => (RouteDown, "SIM not inserted"),
        311 => (RouteDown, "SIM PIN required"),
        312 => (RouteDown, "PH-SIM PIN required"),
        313 => (RouteDown, "SIM failure"),
        314 => (NotSent, "SIM busy"),
        315 => (RouteDown, "SIM wrong"),
        316 => (RouteDown, "SIM PUK required"),
        317 | 318 => (RouteDown, "SIM PIN2/PUK2 required"),
        320 => (NotSent, "memory failure"),
        321 => (Rejected, "invalid memory index"),
        322 => (NotSent, "memory full"),
        330 => (RouteDown, "SMSC address unknown"),
        331 => (RouteDown, "no network service"),
        332 => (NotSent, "network timeout"),
        340 => (NotSent, "no +CNMA acknowledgement expected"),
        500 => (NotSent, "unknown error"),
        _ => (NotSent, "vendor-specific error"),
    }
}

/// The meaning of a `+CME ERROR` code during a send.
pub fn cme_kind(code: u16) -> (FailureKind, &'static str) {
    use FailureKind::*;
    match code {
        3 => (NotSent, "operation not allowed"),
        4 => (Rejected, "operation not supported"),
        10 => (RouteDown, "SIM not inserted"),
        11 => (RouteDown, "SIM PIN required"),
        12 => (RouteDown, "SIM PUK required"),
        13 => (RouteDown, "SIM failure"),
        14 | 515 => (NotSent, "SIM or device busy"),
        15 => (RouteDown, "SIM wrong"),
        30 => (RouteDown, "no network service"),
        31 => (NotSent, "network timeout"),
        _ => (NotSent, "equipment error"),
    }
}

/// The failure an error result of `AT+CMGS` means.
pub fn from_final(result: &Final) -> SendError {
    let (kind, what, cms) = match result {
        Final::CmsError(e) => match e.code {
            Some(c) => {
                let (k, w) = cms_kind(c);
                (k, w, Some(c))
            }
            None => (FailureKind::NotSent, "message service error", None),
        },
        Final::CmeError(e) => match e.code {
            Some(c) => {
                let (k, w) = cme_kind(c);
                (k, w, None)
            }
            None => (FailureKind::NotSent, "equipment error", None),
        },
        _ => (FailureKind::NotSent, "the modem refused the command", None),
    };
    SendError {
        kind,
        code: cms,
        reason: format!("{result} ({what})"),
        link_down: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::at::line::parse_final;

    fn kind(line: &str) -> FailureKind {
        from_final(&parse_final(line).unwrap()).kind
    }

    #[test]
    fn codes_sort_into_what_to_do() {
        assert_eq!(kind("+CMS ERROR: 1"), FailureKind::Rejected);
        assert_eq!(kind("+CMS ERROR: 304"), FailureKind::Rejected);
        assert_eq!(kind("+CMS ERROR: 38"), FailureKind::NotSent);
        assert_eq!(kind("+CMS ERROR: 42"), FailureKind::NotSent);
        assert_eq!(kind("+CMS ERROR: 331"), FailureKind::RouteDown);
        assert_eq!(kind("+CMS ERROR: 310"), FailureKind::RouteDown);
        assert_eq!(kind("+CMS ERROR: 500"), FailureKind::NotSent);
        assert_eq!(kind("+CMS ERROR: 515"), FailureKind::NotSent);
        assert_eq!(kind("+CME ERROR: 11"), FailureKind::RouteDown);
        assert_eq!(kind("+CME ERROR: 515"), FailureKind::NotSent);
        assert_eq!(kind("ERROR"), FailureKind::NotSent);
        let f = from_final(&parse_final("+CMS ERROR: 331").unwrap());
        assert_eq!(f.code, Some(331));
        assert_eq!(f.to_string(), "+CMS ERROR: 331 (no network service)");
    }
}
