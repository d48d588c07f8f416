//! Where an order goes: an ISO 3166-1 country and, optionally, an ISO 3166-2
//! region. Shipping zones and tax rates are set for destinations.
//!
//! Regions are written the ISO 3166-2 way, country first: `US-NY`, `CA-ON`,
//! `DE-BY`. A zone lists regions of several countries without ambiguity that
//! way. A customer's address or a query may give the region without its
//! country (`NY`, as postal addresses do); it is read within the country.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDestination {
    #[error("must be an ISO 3166-1 alpha-2 country code such as US")]
    Country,
    #[error("must be an ISO 3166-2 region code such as US-NY")]
    Region,
    #[error("must be a region of {0}, such as {0}-NY or NY")]
    RegionOf(CountryCode),
}

/// An officially assigned ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// `us` or `US`; only assigned codes.
    pub fn parse(text: &str) -> Result<Self, InvalidDestination> {
        let code = text.trim().to_ascii_uppercase();
        COUNTRIES
            .binary_search_by(|(alpha2, _)| (*alpha2).cmp(code.as_str()))
            .map(|index| Self::from_table(COUNTRIES[index].0))
            .map_err(|_| InvalidDestination::Country)
    }

    /// The country of a postal address, written as an alpha-2 (`US`) or an
    /// alpha-3 code (`USA`); `None` for anything else (a country's name).
    pub fn of_address(text: &str) -> Option<Self> {
        let code = text.trim().to_ascii_uppercase();
        match code.len() {
            2 => Self::parse(&code).ok(),
            3 => COUNTRIES
                .iter()
                .find(|(_, alpha3)| *alpha3 == code)
                .map(|(alpha2, _)| Self::from_table(alpha2)),
            _ => None,
        }
    }

    fn from_table(alpha2: &str) -> Self {
        let bytes = alpha2.as_bytes();
        Self([bytes[0], bytes[1]])
    }

    pub fn as_str(&self) -> &str {
        // Built only from the ASCII table below.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ISO 3166-2 region code with its country: `US-NY`. Its form is checked
/// (an assigned country, then one to three letters or digits), not that the
/// region exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

impl RegionCode {
    /// `US-NY` (any letter case).
    pub fn parse(text: &str) -> Result<Self, InvalidDestination> {
        let code = text.trim().to_ascii_uppercase();
        let (country, region) = code.split_once('-').ok_or(InvalidDestination::Region)?;
        let country = CountryCode::parse(country).map_err(|_| InvalidDestination::Region)?;
        Self::within(country, region)
    }

    /// A region of `country`, given as `US-NY` or as `NY`.
    pub fn parse_within(country: CountryCode, text: &str) -> Result<Self, InvalidDestination> {
        let code = text.trim().to_ascii_uppercase();
        match code.split_once('-') {
            Some((prefix, region)) if prefix == country.as_str() => Self::within(country, region),
            Some(_) => Err(InvalidDestination::RegionOf(country)),
            None => Self::within(country, &code),
        }
    }

    fn within(country: CountryCode, region: &str) -> Result<Self, InvalidDestination> {
        if (1..=3).contains(&region.len()) && region.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            Ok(Self(format!("{country}-{region}")))
        } else {
            Err(InvalidDestination::Region)
        }
    }

    pub fn country(&self) -> CountryCode {
        CountryCode::from_table(&self.0[..2])
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! text_serde {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

text_serde!(CountryCode);
text_serde!(RegionCode);

/// Where a parcel goes, as far as shipping and tax care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub country: CountryCode,
    pub region: Option<RegionCode>,
}

impl Destination {
    /// The destination of a postal address: its country (alpha-2 or alpha-3
    /// code), and its state when that reads as a region of the country
    /// (`NY` or `US-NY`; a state written out, `New York`, gives no region).
    /// `None` when the country is not a code.
    pub fn of_address(address: &super::AddressInput) -> Option<Self> {
        let country = CountryCode::of_address(&address.country)?;
        let region = address
            .state
            .as_deref()
            .and_then(|state| RegionCode::parse_within(country, state).ok());
        Some(Self { country, region })
    }
}

/// Every assigned ISO 3166-1 code, alpha-2 with its alpha-3, sorted by alpha-2.
#[rustfmt::skip]
const COUNTRIES: [(&str, &str); 249] = [
    ("AD", "AND"), ("AE", "ARE"), ("AF", "AFG"), ("AG", "ATG"), ("AI", "AIA"), ("AL", "ALB"), ("AM", "ARM"),
    ("AO", "AGO"), ("AQ", "ATA"), ("AR", "ARG"), ("AS", "ASM"), ("AT", "AUT"), ("AU", "AUS"), ("AW", "ABW"),
    ("AX", "ALA"), ("AZ", "AZE"), ("BA", "BIH"), ("BB", "BRB"), ("BD", "BGD"), ("BE", "BEL"), ("BF", "BFA"),
    ("BG", "BGR"), ("BH", "BHR"), ("BI", "BDI"), ("BJ", "BEN"), ("BL", "BLM"), ("BM", "BMU"), ("BN", "BRN"),
    ("BO", "BOL"), ("BQ", "BES"), ("BR", "BRA"), ("BS", "BHS"), ("BT", "BTN"), ("BV", "BVT"), ("BW", "BWA"),
    ("BY", "BLR"), ("BZ", "BLZ"), ("CA", "CAN"), ("CC", "CCK"), ("CD", "COD"), ("CF", "CAF"), ("CG", "COG"),
    ("CH", "CHE"), ("CI", "CIV"), ("CK", "COK"), ("CL", "CHL"), ("CM", "CMR"), ("CN", "CHN"), ("CO", "COL"),
    ("CR", "CRI"), ("CU", "CUB"), ("CV", "CPV"), ("CW", "CUW"), ("CX", "CXR"), ("CY", "CYP"), ("CZ", "CZE"),
    ("DE", "DEU"), ("DJ", "DJI"), ("DK", "DNK"), ("DM", "DMA"), ("DO", "DOM"), ("DZ", "DZA"), ("EC", "ECU"),
    ("EE", "EST"), ("EG", "EGY"), ("EH", "ESH"), ("ER", "ERI"), ("ES", "ESP"), ("ET", "ETH"), ("FI", "FIN"),
    ("FJ", "FJI"), ("FK", "FLK"), ("FM", "FSM"), ("FO", "FRO"), ("FR", "FRA"), ("GA", "GAB"), ("GB", "GBR"),
    ("GD", "GRD"), ("GE", "GEO"), ("GF", "GUF"), ("GG", "GGY"), ("GH", "GHA"), ("GI", "GIB"), ("GL", "GRL"),
    ("GM", "GMB"), ("GN", "GIN"), ("GP", "GLP"), ("GQ", "GNQ"), ("GR", "GRC"), ("GS", "SGS"), ("GT", "GTM"),
    ("GU", "GUM"), ("GW", "GNB"), ("GY", "GUY"), ("HK", "HKG"), ("HM", "HMD"), ("HN", "HND"), ("HR", "HRV"),
    ("HT", "HTI"), ("HU", "HUN"), ("ID", "IDN"), ("IE", "IRL"), ("IL", "ISR"), ("IM", "IMN"), ("IN", "IND"),
    ("IO", "IOT"), ("IQ", "IRQ"), ("IR", "IRN"), ("IS", "ISL"), ("IT", "ITA"), ("JE", "JEY"), ("JM", "JAM"),
    ("JO", "JOR"), ("JP", "JPN"), ("KE", "KEN"), ("KG", "KGZ"), ("KH", "KHM"), ("KI", "KIR"), ("KM", "COM"),
    ("KN", "KNA"), ("KP", "PRK"), ("KR", "KOR"), ("KW", "KWT"), ("KY", "CYM"), ("KZ", "KAZ"), ("LA", "LAO"),
    ("LB", "LBN"), ("LC", "LCA"), ("LI", "LIE"), ("LK", "LKA"), ("LR", "LBR"), ("LS", "LSO"), ("LT", "LTU"),
    ("LU", "LUX"), ("LV", "LVA"), ("LY", "LBY"), ("MA", "MAR"), ("MC", "MCO"), ("MD", "MDA"), ("ME", "MNE"),
    ("MF", "MAF"), ("MG", "MDG"), ("MH", "MHL"), ("MK", "MKD"), ("ML", "MLI"), ("MM", "MMR"), ("MN", "MNG"),
    ("MO", "MAC"), ("MP", "MNP"), ("MQ", "MTQ"), ("MR", "MRT"), ("MS", "MSR"), ("MT", "MLT"), ("MU", "MUS"),
    ("MV", "MDV"), ("MW", "MWI"), ("MX", "MEX"), ("MY", "MYS"), ("MZ", "MOZ"), ("NA", "NAM"), ("NC", "NCL"),
    ("NE", "NER"), ("NF", "NFK"), ("NG", "NGA"), ("NI", "NIC"), ("NL", "NLD"), ("NO", "NOR"), ("NP", "NPL"),
    ("NR", "NRU"), ("NU", "NIU"), ("NZ", "NZL"), ("OM", "OMN"), ("PA", "PAN"), ("PE", "PER"), ("PF", "PYF"),
    ("PG", "PNG"), ("PH", "PHL"), ("PK", "PAK"), ("PL", "POL"), ("PM", "SPM"), ("PN", "PCN"), ("PR", "PRI"),
    ("PS", "PSE"), ("PT", "PRT"), ("PW", "PLW"), ("PY", "PRY"), ("QA", "QAT"), ("RE", "REU"), ("RO", "ROU"),
    ("RS", "SRB"), ("RU", "RUS"), ("RW", "RWA"), ("SA", "SAU"), ("SB", "SLB"), ("SC", "SYC"), ("SD", "SDN"),
    ("SE", "SWE"), ("SG", "SGP"), ("SH", "SHN"), ("SI", "SVN"), ("SJ", "SJM"), ("SK", "SVK"), ("SL", "SLE"),
    ("SM", "SMR"), ("SN", "SEN"), ("SO", "SOM"), ("SR", "SUR"), ("SS", "SSD"), ("ST", "STP"), ("SV", "SLV"),
    ("SX", "SXM"), ("SY", "SYR"), ("SZ", "SWZ"), ("TC", "TCA"), ("TD", "TCD"), ("TF", "ATF"), ("TG", "TGO"),
    ("TH", "THA"), ("TJ", "TJK"), ("TK", "TKL"), ("TL", "TLS"), ("TM", "TKM"), ("TN", "TUN"), ("TO", "TON"),
    ("TR", "TUR"), ("TT", "TTO"), ("TV", "TUV"), ("TW", "TWN"), ("TZ", "TZA"), ("UA", "UKR"), ("UG", "UGA"),
    ("UM", "UMI"), ("US", "USA"), ("UY", "URY"), ("UZ", "UZB"), ("VA", "VAT"), ("VC", "VCT"), ("VE", "VEN"),
    ("VG", "VGB"), ("VI", "VIR"), ("VN", "VNM"), ("VU", "VUT"), ("WF", "WLF"), ("WS", "WSM"), ("YE", "YEM"),
    ("YT", "MYT"), ("ZA", "ZAF"), ("ZM", "ZMB"), ("ZW", "ZWE"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn address(country: &str, state: Option<&str>) -> super::super::AddressInput {
        super::super::AddressInput {
            street: "1 Main St".into(),
            city: "Albany".into(),
            state: state.map(str::to_owned),
            zip_code: "12207".into(),
            country: country.into(),
        }
    }

    #[test]
    fn countries_are_assigned_alpha_2_codes_in_any_case() {
        assert_eq!(CountryCode::parse(" us ").unwrap().as_str(), "US");
        assert_eq!(CountryCode::parse("de").unwrap().to_string(), "DE");
        for bad in ["", "U", "USA", "XX", "ZZ", "1A", "U$"] {
            assert_eq!(CountryCode::parse(bad), Err(InvalidDestination::Country), "{bad}");
        }
    }

    #[test]
    fn the_table_is_sorted_and_pairs_each_code_once() {
        assert!(COUNTRIES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        let mut alpha3: Vec<&str> = COUNTRIES.iter().map(|(_, three)| *three).collect();
        alpha3.sort_unstable();
        alpha3.dedup();
        assert_eq!(alpha3.len(), COUNTRIES.len());
    }

    #[test]
    fn regions_carry_their_country() {
        let region = RegionCode::parse("us-ny").unwrap();
        assert_eq!((region.as_str(), region.country().as_str()), ("US-NY", "US"));
        assert_eq!(RegionCode::parse("GB-ENG").unwrap().as_str(), "GB-ENG");
        for bad in ["NY", "US-", "US-NEWY", "XX-NY", "US-N Y", "-NY"] {
            assert!(RegionCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_region_within_a_country_may_leave_the_country_out() {
        let us = CountryCode::parse("US").unwrap();
        assert_eq!(RegionCode::parse_within(us, "ny").unwrap().as_str(), "US-NY");
        assert_eq!(RegionCode::parse_within(us, "US-NY").unwrap().as_str(), "US-NY");
        assert_eq!(
            RegionCode::parse_within(us, "CA-ON"),
            Err(InvalidDestination::RegionOf(us))
        );
        assert!(RegionCode::parse_within(us, "New York").is_err());
    }

    #[test]
    fn an_address_gives_its_destination() {
        let ny = Destination::of_address(&address("USA", Some("NY"))).unwrap();
        assert_eq!((ny.country.as_str(), ny.region.unwrap().as_str()), ("US", "US-NY"));
        let written_out = Destination::of_address(&address("us", Some("New York"))).unwrap();
        assert_eq!((written_out.country.as_str(), written_out.region), ("US", None));
        assert_eq!(Destination::of_address(&address("United States", Some("NY"))), None);
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_round_trips(text in "\\PC{0,8}") {
            if let Ok(country) = CountryCode::parse(&text) {
                prop_assert_eq!(CountryCode::parse(country.as_str()), Ok(country));
            }
            if let Ok(region) = RegionCode::parse(&text) {
                prop_assert_eq!(RegionCode::parse(region.as_str()), Ok(region.clone()));
                prop_assert!(region.as_str().starts_with(region.country().as_str()));
            }
            let _ = CountryCode::of_address(&text);
        }
    }
}
