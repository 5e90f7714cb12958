//! Vendor profiles, as data: what differs between the modems people deploy, and where each
//! fact comes from. A profile is picked by the manufacturer (`AT+CGMI`) and model
//! (`AT+CGMM`) a modem reports, or by its USB vendor:product ids before it is opened.
//!
//! What a profile drives today: the init commands sent after identification (unless the
//! phone sets `vendor_init`), the unsolicited lines dropped as noise, and — in
//! `smsgw modems` and `smsgw doctor` — which USB interface is the AT port. The reset
//! command and wait, and the storage notes, are documentation for the operator (smsgw
//! resets with `AT+CFUN=1,1` and picks memories from `AT+CPMS=?` on every modem).
//!
//! Sources are named per profile. "MM" is ModemManager (its plugins and udev port-type
//! rules); "Gammu" is Gammu's AT driver and phone database; "python-gsmmodem" its test
//! profiles; "smstools" the smstools3 documentation. Facts marked "unverified" come from
//! user reports and are safe to be wrong (an init command a modem refuses is skipped).

/// A USB modem whose AT port is a known interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbPort {
    pub vendor: &'static str,
    pub product: &'static str,
    /// `bInterfaceNumber` of the AT port.
    pub interface: &'static str,
    pub model: &'static str,
}

/// One vendor's (or one family's) ways.
#[derive(Debug, PartialEq, Eq)]
pub struct Profile {
    /// Short name, as `smsgw modems` shows it.
    pub name: &'static str,
    /// The models it was written for.
    pub models: &'static str,
    /// Lowercase substrings of the `AT+CGMI` answer that pick this profile.
    pub manufacturer: &'static [&'static str],
    /// USB ids and AT port interfaces.
    pub usb: &'static [UsbPort],
    /// Sent after identification, each may fail.
    pub init: &'static [&'static str],
    /// Unsolicited lines (by name, upper case) that carry nothing smsgw uses.
    pub noise: &'static [&'static str],
    /// The vendor's reset, and seconds until the modem answers again.
    pub reset: &'static str,
    pub reset_wait: u64,
    /// What else an operator should know (storages, CNMI, ports, PDU quirks).
    pub notes: &'static str,
    pub sources: &'static str,
}

const fn usb(
    vendor: &'static str,
    product: &'static str,
    interface: &'static str,
    model: &'static str,
) -> UsbPort {
    UsbPort {
        vendor,
        product,
        interface,
        model,
    }
}

/// Every modem that matches no other profile.
pub static GENERIC: Profile = Profile {
    name: "generic",
    models: "any GSM 07.05 modem in PDU mode",
    manufacturer: &[],
    usb: &[],
    init: &[],
    noise: &[],
    reset: "AT+CFUN=1,1",
    reset_wait: 30,
    notes: "Memories from AT+CPMS=?, indications from AT+CNMI=? (store and notify first), the storage swept on every connect.",
    sources: "3GPP TS 27.005 and 27.007",
};

/// The profiles, most specific first.
pub static PROFILES: &[Profile] = &[
    Profile {
        name: "huawei",
        models: "E173, E1550, E1752, E3372 (stick firmware 21.x), MU709",
        manufacturer: &["huawei"],
        usb: &[
            usb("12d1", "1001", "00", "Huawei E1550/E173"),
            usb("12d1", "1436", "02", "Huawei E1752"),
            usb("12d1", "1506", "00", "Huawei E3372 (stick mode)"),
        ],
        init: &["AT^CURC=0"],
        noise: &[
            "^RSSI", "^RSSILVL", "^HRSSILVL", "^HCSQ", "^MODE", "^DSFLOWRPT", "^NDISSTAT",
            "^DSDORMANT", "^PDPDEACT", "^NDISEND", "^ORIG", "^CONF", "^CONN", "^CEND",
            "^DDTMF", "^BOOT", "^SRVST", "^SIMST", "^STIN", "^CSNR", "^RFSWITCH",
            "^POSITION", "^ECCLIST", "^LTERSRP", "^CSCHANNELINFO", "^CCALLSTATE", "^EONS",
            "^LWURC", "+CUSATP", "+CUSATEND",
        ],
        reset: "AT+CFUN=1,1",
        reset_wait: 30,
        notes: "AT^CURC=0 stops most periodic codes; some firmwares keep sending a few, any ^XXX line is taken as unsolicited. Lines may end in \\r\\r\\n; old firmware answers COMMAND NOT SUPPORT instead of ERROR; index 0 exists on some sticks (+CMTI: \"ME\",0). E3372 HiLink firmware (12d1:14dc, 22.x) has no AT port at all: it needs the stick firmware. The E173's PCUI port (ttyUSB2, unverified) is the one that gets unsolicited codes. USSD may need AT^USSDMODE=0.",
        sources: "MM plugins/huawei (unsolicited regexes); Gammu F_HUAWEI_INIT (AT^CURC=0); python-gsmmodem HuaweiE1752/HuaweiK3715 profiles; Gammu issues #340, #418, #550 (HiLink, index 0)",
    },
    Profile {
        name: "zte",
        models: "MF110, MF190, K3565-Z",
        manufacturer: &["zte"],
        usb: &[],
        init: &["AT+ZCDRUN=8", "AT+ZOPRT=5"],
        noise: &["+ZDONR", "+ZPASR", "+ZUSIMR", "+ZEND"],
        reset: "AT+CFUN=1,1",
        reset_wait: 30,
        notes: "AT+ZCDRUN=8 stops the CD-ROM autorun, AT+ZOPRT=5 keeps the preferred mode. Some refuse every command until the PIN is entered; AT+CSMP= clears the stored SMSC number; +CMGR of a status report may lack <stat>; +ZDONR/+ZPASR can arrive inside a send before the prompt.",
        sources: "Gammu F_ZTE_INIT; python-gsmmodem QualcommM6280 and ZteK3565Z profiles; MM plugins/zte",
    },
    Profile {
        name: "quectel",
        models: "EC25, EG25(-G), BG96, EG91, EG95",
        manufacturer: &["quectel"],
        usb: &[
            usb("2c7c", "0125", "02", "Quectel EC25/EG25"),
            usb("2c7c", "0296", "02", "Quectel BG96"),
        ],
        init: &[],
        noise: &["+QIND", "RDY", "+QUSIM", "POWERED DOWN"],
        reset: "AT+CFUN=1,1",
        reset_wait: 20,
        notes: "USB interface 0 is DIAG, 1 NMEA (GPS), 2 the AT port, 3 a second AT/PPP port. Where unsolicited codes go is set by AT+QURCCFG=\"urcport\",...: if +CMTI never shows on the AT port, check it (the sweep finds the messages either way). +QIND: SMS DONE says the SIM's messages are readable.",
        sources: "MM 77-mm-quectel-port-types.rules; sixfab/atcom modems.py (2c7c:0125/0296 interface 02); Quectel EC25 AT commands manual (AT+QURCCFG)",
    },
    Profile {
        name: "simcom",
        models: "SIM800, SIM900, SIM7000, SIM7600",
        manufacturer: &["simcom"],
        usb: &[usb("1e0e", "9001", "02", "SIMCom SIM7600")],
        init: &[],
        noise: &["PB DONE", "SMS DONE"],
        reset: "AT+CFUN=1,1",
        reset_wait: 20,
        notes: "SIM800/SIM900 are UART modules (ttyS*, ttyAMA0 or a USB-serial adapter): autobauding wants a few ATs (smsgw sends several), and a weak power supply resets them silently, which shows as RDY / SMS Ready (taken as a reboot: init again). SIM7600: interface 2 is the AT port. +CMT in PDU mode has an empty alpha (+CMT: ,<len>).",
        sources: "MM 77-mm-simtech-port-types.rules; python-gsmmodem; SIM800 series AT command manual",
    },
    Profile {
        name: "sierra",
        models: "MC7304, MC7455, EM7455, EM7565",
        manufacturer: &["sierra"],
        usb: &[
            usb("1199", "9071", "03", "Sierra Wireless MC7455"),
            usb("1199", "9091", "03", "Sierra Wireless EM7565"),
        ],
        init: &[],
        noise: &[],
        reset: "AT!RESET",
        reset_wait: 30,
        notes: "Interface 0 is DIAG, 2 NMEA, 3 the AT port (often ttyUSB2, as interface 1 is not a tty). Usually run in QMI or MBIM mode; the AT port still serves SMS. The MC7304's AT interface is not recorded here (unverified): `smsgw modems` finds it by asking.",
        sources: "MM 77-mm-sierra.rules and plugins/sierra; Sierra AT command reference (AT!RESET)",
    },
    Profile {
        name: "telit",
        models: "LE910, LN920, ME910",
        manufacturer: &["telit"],
        usb: &[
            usb("1bc7", "1201", "04", "Telit LE910"),
            usb("1bc7", "1206", "05", "Telit LE910"),
        ],
        init: &[],
        noise: &["#QSS"],
        reset: "AT#REBOOT",
        reset_wait: 30,
        notes: "Several USB compositions, each with two or more AT ports. +CMT in PDU mode is +CMT: <alpha>,<length>; with AT+CSMS=1 every +CMT must be acknowledged (smsgw does, after the commit).",
        sources: "MM 77-mm-telit-port-types.rules; sixfab/atcom modems.py (1bc7:1201 interface 04, 1206 interface 05); Telit ML865 AT manual (+CMT, +CNMA)",
    },
    Profile {
        name: "ublox",
        models: "SARA-U2, SARA-R4, LISA",
        manufacturer: &["u-blox", "ublox"],
        usb: &[],
        init: &[],
        noise: &["+UUPSDA", "+UUPSDD", "+UUSOCL"],
        reset: "AT+CFUN=16",
        reset_wait: 20,
        notes: "Mostly UART modules; AT+CFUN=16 resets the module without the SIM.",
        sources: "u-blox cellular AT commands manual (AT+CFUN=16); MM plugins/ublox",
    },
    Profile {
        name: "cinterion",
        models: "Siemens MC35i, Cinterion EHS6, BGS2",
        manufacturer: &["cinterion", "siemens", "gemalto", "thales"],
        usb: &[],
        init: &[],
        noise: &["^SYSSTART", "^SBC", "^SHUTDOWN"],
        reset: "AT+CFUN=1,1",
        reset_wait: 30,
        notes: "^SYSSTART after power-up says the module accepts commands. The MC35i is a serial terminal (RS-232) at 115200 or autobaud; old Siemens phones need slow writes (Gammu's SLOWWRITE).",
        sources: "MM plugins/cinterion; Gammu (Siemens slow write, AT^SQWE); Cinterion MC35i AT command set",
    },
    Profile {
        name: "wavecom",
        models: "Wavecom / Sierra Fastrack, Q2400",
        manufacturer: &["wavecom"],
        usb: &[],
        init: &["AT+WIND=0"],
        noise: &["+WIND"],
        reset: "AT+CFUN=1",
        reset_wait: 20,
        notes: "+CPIN? answers without a final OK (smsgw takes the +CPIN: line); +CGMI answers with a leading space; after AT+CFUN=1 the next commands get +CME ERROR: 515 (retried); AT+CPMS=\"SM\",\"SM\",\"SR\" is refused; +WIND indications (AT+WIND=0 turns them off).",
        sources: "python-gsmmodem WavecomMultiband900E1800 profile; Gammu F_CPIN_NO_OK; Wavecom AT commands interface guide (AT+WIND)",
    },
];

/// The profile for a modem that said `manufacturer` (`AT+CGMI`).
pub fn for_manufacturer(manufacturer: Option<&str>) -> &'static Profile {
    let m = manufacturer.unwrap_or("").to_ascii_lowercase();
    PROFILES
        .iter()
        .find(|p| p.manufacturer.iter().any(|k| m.contains(k)))
        .unwrap_or(&GENERIC)
}

/// The profile and port of a USB modem's interface, by its ids.
pub fn for_usb(vendor: &str, product: &str) -> Option<(&'static Profile, &'static UsbPort)> {
    PROFILES.iter().find_map(|p| {
        p.usb
            .iter()
            .find(|u| {
                u.vendor.eq_ignore_ascii_case(vendor) && u.product.eq_ignore_ascii_case(product)
            })
            .map(|u| (p, u))
    })
}

/// What a USB interface is, when its modem's profile knows: "the AT port of a Quectel
/// EC25/EG25", or "a Quectel EC25/EG25 port, not its AT port (interface 02)".
pub fn at_port_hint(vendor: &str, product: &str, interface: &str) -> Option<String> {
    let (_, port) = for_usb(vendor, product)?;
    Some(if port.interface == interface {
        format!("the AT port of a {}", port.model)
    } else {
        format!(
            "a {} port, not its AT port (interface {})",
            port.model, port.interface
        )
    })
}

impl Profile {
    /// Whether an unsolicited line named `name` is this vendor's noise.
    pub fn is_noise(&self, name: &str) -> bool {
        self.noise.iter().any(|n| n.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_picked_by_what_the_modem_says() {
        assert_eq!(for_manufacturer(Some("huawei")).name, "huawei");
        assert_eq!(for_manufacturer(Some("ZTE CORPORATION")).name, "zte");
        assert_eq!(for_manufacturer(Some("Quectel")).name, "quectel");
        assert_eq!(for_manufacturer(Some("SIMCOM_Ltd")).name, "simcom");
        assert_eq!(
            for_manufacturer(Some("Sierra Wireless, Incorporated")).name,
            "sierra"
        );
        assert_eq!(for_manufacturer(Some(" WAVECOM MODEM")).name, "wavecom");
        assert_eq!(for_manufacturer(Some("SIEMENS")).name, "cinterion");
        assert_eq!(for_manufacturer(Some("smsgw")).name, "generic");
        assert_eq!(for_manufacturer(None).name, "generic");
        let (p, port) = for_usb("2C7C", "0125").unwrap();
        assert_eq!((p.name, port.interface), ("quectel", "02"));
        assert_eq!(
            at_port_hint("2c7c", "0125", "00").as_deref(),
            Some("a Quectel EC25/EG25 port, not its AT port (interface 02)")
        );
        assert!(for_usb("dead", "beef").is_none());
    }

    #[test]
    fn every_profile_names_its_sources_and_a_reset() {
        for p in PROFILES.iter().chain([&GENERIC]) {
            assert!(!p.sources.is_empty() && !p.reset.is_empty(), "{}", p.name);
            assert!(
                p.noise.iter().all(|n| *n == n.to_ascii_uppercase()),
                "{}",
                p.name
            );
        }
        // The channel takes every noise line for an unsolicited code.
        for p in PROFILES {
            for n in p.noise {
                assert!(
                    crate::at::line::urc_shape(&format!("{n}: 1")).is_some(),
                    "{}: {n}",
                    p.name
                );
            }
        }
        let mut names: Vec<_> = PROFILES.iter().map(|p| p.name).collect();
        names.dedup();
        assert_eq!(names.len(), PROFILES.len());
    }
}
