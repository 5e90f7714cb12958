//! Vendors' dialects for the simulated modem (`smsgw sim --profile NAME`): what a modem of
//! each vendor profile ([`crate::modem::profile`]) says it is, the vendor commands of its
//! profile's init it accepts, and the unsolicited lines it drops into its answers. The
//! identity strings are the shapes those modems answer with (`AT+CGMI`, `AT+CGMM`,
//! `AT+CGMR`), the noise lines the shapes their manuals and ModemManager's plugins show.

use super::SimConfig;
use crate::modem::profile;

/// One vendor's modem as the simulator plays it.
#[derive(Debug)]
pub struct Dialect {
    /// `--profile` name: vendor and model.
    pub name: &'static str,
    /// The vendor profile it should be taken for.
    pub profile: &'static str,
    pub manufacturer: &'static str,
    pub model: &'static str,
    pub revision: &'static str,
    /// Unsolicited lines, one dropped into every third answer.
    pub noise: &'static [&'static str],
    /// Huawei's `\r\r\n` line ends and `COMMAND NOT SUPPORT`.
    pub huawei: bool,
    /// `AT+CPIN?` without a final `OK` (Wavecom).
    pub cpin_no_ok: bool,
}

pub static DIALECTS: &[Dialect] = &[
    Dialect {
        name: "huawei-e173",
        profile: "huawei",
        manufacturer: "huawei",
        model: "E173",
        revision: "11.126.85.00.209",
        noise: &[
            "^RSSI: 18",
            "^BOOT:20824016,0,0,0,72",
            "^MODE:5,4",
            "^DSFLOWRPT:00000002,00000000,00000000,00000000,00000000,0003E800,0003E800",
        ],
        huawei: true,
        cpin_no_ok: false,
    },
    Dialect {
        name: "huawei-e3372",
        profile: "huawei",
        manufacturer: "huawei",
        model: "E3372",
        revision: "21.180.01.00.00",
        noise: &["^RSSI: 18", "^HCSQ:\"LTE\",45,37,136,24"],
        huawei: true,
        cpin_no_ok: false,
    },
    Dialect {
        name: "zte-mf190",
        profile: "zte",
        manufacturer: "ZTE CORPORATION",
        model: "MF190",
        revision: "BD_MF190V1.0.0B03",
        noise: &["+ZUSIMR:2", "+ZPASR: \"UMTS\"", "+ZEND"],
        huawei: false,
        cpin_no_ok: false,
    },
    Dialect {
        name: "quectel-ec25",
        profile: "quectel",
        manufacturer: "Quectel",
        model: "EC25",
        revision: "EC25EFAR06A06M4G",
        noise: &["+QIND: \"csq\",20,99", "+QIND: SMS DONE", "+QIND: PB DONE"],
        huawei: false,
        cpin_no_ok: false,
    },
    Dialect {
        name: "quectel-bg96",
        profile: "quectel",
        manufacturer: "Quectel",
        model: "BG96",
        revision: "BG96MAR02A07M1G",
        noise: &["+QIND: \"csq\",20,99"],
        huawei: false,
        cpin_no_ok: false,
    },
    Dialect {
        name: "simcom-sim800",
        profile: "simcom",
        manufacturer: "SIMCOM_Ltd",
        model: "SIMCOM_SIM800L",
        revision: "Revision:1418B05SIM800L24",
        noise: &[],
        huawei: false,
        cpin_no_ok: false,
    },
    Dialect {
        name: "simcom-sim7600",
        profile: "simcom",
        manufacturer: "SIMCOM INCORPORATED",
        model: "SIMCOM_SIM7600E-H",
        revision: "LE20B04SIM7600M22",
        noise: &["PB DONE", "SMS DONE"],
        huawei: false,
        cpin_no_ok: false,
    },
    Dialect {
        name: "sierra-mc7304",
        profile: "sierra",
        manufacturer: "Sierra Wireless, Incorporated",
        model: "MC7304",
        revision: "SWI9X15C_05.05.58.00",
        noise: &[],
        huawei: false,
        cpin_no_ok: false,
    },
    Dialect {
        name: "telit-le910",
        profile: "telit",
        manufacturer: "Telit",
        model: "LE910-EU1",
        revision: "17.00.523",
        noise: &["#QSS: 1"],
        huawei: false,
        cpin_no_ok: false,
    },
    Dialect {
        name: "ublox-sara",
        profile: "ublox",
        manufacturer: "u-blox",
        model: "SARA-U270",
        revision: "23.60",
        noise: &["+UUPSDD: 0"],
        huawei: false,
        cpin_no_ok: false,
    },
    Dialect {
        name: "cinterion-ehs6",
        profile: "cinterion",
        manufacturer: "Cinterion",
        model: "EHS6",
        revision: "REVISION 03.001",
        noise: &["^SBC: Undervoltage"],
        huawei: false,
        cpin_no_ok: false,
    },
    Dialect {
        name: "siemens-mc35i",
        profile: "cinterion",
        manufacturer: "SIEMENS",
        model: "MC35i",
        revision: "REVISION 02.00",
        noise: &[],
        huawei: false,
        cpin_no_ok: false,
    },
    Dialect {
        name: "wavecom-fastrack",
        profile: "wavecom",
        manufacturer: " WAVECOM MODEM",
        model: "MULTIBAND  900E  1800",
        revision: "R7.46.0.201108091301.FXT009",
        noise: &["+WIND: 4"],
        huawei: false,
        cpin_no_ok: true,
    },
];

impl Dialect {
    /// The dialect named `name`.
    pub fn named(name: &str) -> Option<&'static Dialect> {
        DIALECTS.iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    /// `cfg` speaking this dialect: identity, noise, line ends, and its profile's init
    /// commands accepted.
    pub fn apply(&self, cfg: &mut SimConfig) {
        cfg.manufacturer = self.manufacturer.into();
        cfg.model = self.model.into();
        cfg.revision = self.revision.into();
        cfg.noise = self.noise.iter().map(|n| n.to_string()).collect();
        cfg.huawei = self.huawei;
        cfg.cpin_no_ok = self.cpin_no_ok;
        let init = profile::PROFILES
            .iter()
            .find(|p| p.name == self.profile)
            .map_or(&[][..], |p| p.init);
        cfg.accepts = init.iter().map(|c| c.to_string()).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_has_a_dialect_and_every_dialect_a_profile() {
        for p in profile::PROFILES {
            assert!(
                DIALECTS.iter().any(|d| d.profile == p.name),
                "no dialect plays {}",
                p.name
            );
        }
        for d in DIALECTS {
            assert_eq!(
                profile::for_manufacturer(Some(d.manufacturer)).name,
                d.profile,
                "{}",
                d.name
            );
            // The channel takes each noise line for an unsolicited code, wherever it lands.
            for n in d.noise {
                assert!(crate::at::line::urc_shape(n).is_some(), "{}: {n}", d.name);
            }
        }
    }
}
