//! A demo catalog for local runs: a category tree and a few hundred products
//! that look like a real shop, so listing, search, facets and stock handling
//! have something worth showing.
//!
//! The catalog is pure data. A fixed-seed generator picks the combinations, so
//! every run (and every test) sees the same products with the same slugs, SKUs,
//! prices and stock, and a test can name a product and rely on it existing.

use std::collections::HashSet;

/// A category of the demo tree; `parent` is the parent's slug (None for a root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedCategory {
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
    pub description: String,
}

/// One purchasable option of a product, e.g. size M in black.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedVariant {
    pub sku: String,
    /// Option name and value, e.g. `("Size", "M")`, `("Color", "Black")`.
    pub options: Vec<(String, String)>,
    /// Overrides the product's price when set.
    pub price_cents: Option<i64>,
    pub stock: u32,
}

/// A product of the demo catalog, in the shape the catalog service stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedProduct {
    pub name: String,
    pub slug: String,
    pub sku: String,
    pub brand: String,
    /// Slug of a leaf category.
    pub category: String,
    /// One sentence, under 200 characters.
    pub description: String,
    pub long_description: String,
    pub price_cents: i64,
    pub compare_price_cents: Option<i64>,
    /// Used when `variants` is empty; a product with variants keeps its stock there.
    pub stock: u32,
    pub variants: Vec<SeedVariant>,
    /// `https://cdn.example.com/products/<slug>/<n>.jpg`, one to four.
    pub images: Vec<String>,
    pub specifications: Vec<(String, String)>,
    pub tags: Vec<String>,
    pub status: SeedStatus,
    pub featured: bool,
    pub low_stock_threshold: u32,
}

/// Only `Active` products are visible to shoppers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedStatus {
    Draft,
    Active,
    Archived,
}

/// Everything the demo seeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedCatalog {
    /// Parents come before their children, so they can be inserted in order.
    pub categories: Vec<SeedCategory>,
    pub products: Vec<SeedProduct>,
}

/// Builds the demo catalog. Every call returns the same catalog.
pub fn demo_catalog() -> SeedCatalog {
    let mut rng = SplitMix64(SEED);
    let categories = CATEGORIES
        .iter()
        .map(|&(slug, name, parent, description)| SeedCategory {
            slug: slug.to_owned(),
            name: name.to_owned(),
            parent: parent.map(str::to_owned),
            description: description.to_owned(),
        })
        .collect();

    let mut slugs = HashSet::new();
    let mut products = Vec::new();

    // Hand-written first, so their names win over any generated clash.
    for special in SPECIALS {
        let leaf = leaf(special.category);
        let slug = slugify(special.name);
        slugs.insert(slug.clone());
        let extra = rng
            .pick(leaf.features, leaf.features.len())
            .into_iter()
            .find(|feature| !special.description.contains(feature))
            .unwrap_or(leaf.features[0]);
        let mut product = Shaped {
            leaf,
            name: special.name.to_owned(),
            slug,
            sku: special.sku.to_owned(),
            brand: special.brand,
            price_cents: special.price_cents,
            description: special.description.to_owned(),
            extra,
        }
        .build(&mut rng);
        product.stock = special.stock;
        product.featured = special.featured;
        product.low_stock_threshold = 10;
        if mentions_wireless(&product) && !product.tags.iter().any(|tag| tag == "wireless") {
            product.tags.insert(0, "wireless".to_owned());
            product.tags.truncate(4);
        }
        products.push(product);
    }

    let generated_from = products.len();
    for leaf in LEAVES {
        let mut combos = Vec::new();
        for brand in leaf.brands {
            for model in leaf.models {
                for noun in leaf.nouns {
                    for trim in leaf.trims {
                        combos.push((*brand, *model, *noun, *trim));
                    }
                }
            }
        }
        rng.shuffle(&mut combos);

        let mut made = 0;
        for (brand, model, noun, trim) in combos {
            if made == leaf.count {
                break;
            }
            let (name, subject) = match leaf.naming {
                Naming::Branded => {
                    let name = [brand, model, noun, trim]
                        .iter()
                        .filter(|part| !part.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" ");
                    (name, sentence_case(noun))
                }
                Naming::Titled { kind } => (format!("{model} {noun}"), kind.to_owned()),
            };
            let slug = slugify(&name);
            if !slugs.insert(slug.clone()) {
                continue;
            }
            made += 1;

            let features = rng.pick(leaf.features, 3);
            let description = format!("{subject} with {} and {}.", features[0], features[1]);
            let price_cents = rng.range(leaf.dollars.0, leaf.dollars.1) * 100 + 99;
            let mut product = Shaped {
                leaf,
                name,
                slug,
                sku: format!("{}-{}-{made:03}", leaf.sku_prefix, code(brand, 3)),
                brand,
                price_cents,
                description,
                extra: features[2],
            }
            .build(&mut rng);

            if let Some(axes) = leaf.variants.filter(|axes| axes.applies_to(made)) {
                product.variants = axes.variants(&product.sku, price_cents, &mut rng);
                product.stock = 0;
            }
            products.push(product);
        }
    }

    assign_roles(&mut products[generated_from..], &mut rng);
    mark_down(&mut products[generated_from..], &mut rng);
    SeedCatalog { categories, products }
}

const SEED: u64 = 0x5EED_CA7A_1065_2024;
const MAX_PRICE_CENTS: i64 = 249_999;
const COMPARE_PRICE_PERCENT: usize = 20;
const LOW_STOCK_THRESHOLDS: [u32; 3] = [5, 10, 15];
/// Per variant; at most six variants keeps a product's total under 200.
const MAX_VARIANT_STOCK: u32 = 30;
const CDN: &str = "https://cdn.example.com/products";

/// How many generated products take each special role. Drawn from one shuffle,
/// so no product takes two roles and the picks never change between runs.
const ROLES: &[(Role, usize)] = &[
    (Role::Draft, 6),
    (Role::Archived, 3),
    (Role::SoldOut, 6),
    (Role::Featured, 13),
];

#[derive(Clone, Copy)]
enum Role {
    Draft,
    Archived,
    SoldOut,
    Featured,
}

fn assign_roles(products: &mut [SeedProduct], rng: &mut SplitMix64) {
    let mut order: Vec<usize> = (0..products.len()).collect();
    rng.shuffle(&mut order);
    let mut picks = order.into_iter();
    for &(role, count) in ROLES {
        for index in picks.by_ref().take(count) {
            let product = &mut products[index];
            match role {
                Role::Draft => product.status = SeedStatus::Draft,
                Role::Archived => product.status = SeedStatus::Archived,
                Role::SoldOut => {
                    product.stock = 0;
                    for variant in &mut product.variants {
                        variant.stock = 0;
                    }
                }
                Role::Featured => product.featured = true,
            }
        }
    }
}

/// Gives exactly [`COMPARE_PRICE_PERCENT`] of the products a higher "was"
/// price, so sale badges and price facets have something to show.
fn mark_down(products: &mut [SeedProduct], rng: &mut SplitMix64) {
    let mut order: Vec<usize> = (0..products.len()).collect();
    rng.shuffle(&mut order);
    for index in order.into_iter().take(products.len() * COMPARE_PRICE_PERCENT / 100) {
        let product = &mut products[index];
        let marked_up = product.price_cents * rng.range(115, 140) / 100;
        let compare = (marked_up / 100 * 100 + 99).min(MAX_PRICE_CENTS);
        product.compare_price_cents = (compare > product.price_cents).then_some(compare);
    }
}

/// A product with its name, identity and price settled; the rest is drawn
/// from its leaf's word lists.
struct Shaped<'a> {
    leaf: &'a Leaf,
    name: String,
    slug: String,
    sku: String,
    brand: &'a str,
    price_cents: i64,
    description: String,
    /// A feature the description leaves out, for the long description.
    extra: &'a str,
}

impl Shaped<'_> {
    fn build(self, rng: &mut SplitMix64) -> SeedProduct {
        let leaf = self.leaf;
        let closing = leaf.closings[rng.below(leaf.closings.len())].replace("{brand}", self.brand);
        let long_description = format!("{} It also features {}. {closing}", self.description, self.extra);

        let spec_count = 2 + rng.below(leaf.specs.len() - 1);
        let specifications = leaf.specs[..spec_count]
            .iter()
            .map(|&(key, values)| (key.to_owned(), values[rng.below(values.len())].to_owned()))
            .collect();
        let tag_count = 1 + rng.below(leaf.tags.len().min(4));
        let tags = rng.pick(leaf.tags, tag_count).into_iter().map(str::to_owned).collect();
        let image_count = 1 + rng.below(4);
        let images = (1..=image_count)
            .map(|n| format!("{CDN}/{}/{n}.jpg", self.slug))
            .collect();

        SeedProduct {
            name: self.name,
            slug: self.slug,
            sku: self.sku,
            brand: self.brand.to_owned(),
            category: leaf.category.to_owned(),
            description: self.description,
            long_description,
            price_cents: self.price_cents,
            compare_price_cents: None,
            stock: rng.range(1, 200) as u32,
            variants: Vec::new(),
            images,
            specifications,
            tags,
            status: SeedStatus::Active,
            featured: false,
            low_stock_threshold: LOW_STOCK_THRESHOLDS[rng.below(LOW_STOCK_THRESHOLDS.len())],
        }
    }
}

fn mentions_wireless(product: &SeedProduct) -> bool {
    let text = format!("{} {}", product.name, product.description);
    text.to_lowercase().contains("wireless")
}

fn leaf(slug: &str) -> &'static Leaf {
    LEAVES
        .iter()
        .find(|leaf| leaf.category == slug)
        .expect("every hand-written product names a leaf with word lists")
}

/// splitmix64: tiny, well mixed, and enough for picking demo data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In `0..n`; `n` must be positive.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// In `low..=high`.
    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    /// `count` distinct items, in drawn order.
    fn pick<'a>(&mut self, items: &[&'a str], count: usize) -> Vec<&'a str> {
        let mut pool = items.to_vec();
        self.shuffle(&mut pool);
        pool.truncate(count);
        pool
    }
}

/// Lowercase ASCII words joined by single hyphens; apostrophes vanish so
/// "Chef's" becomes "chefs" rather than "chef-s".
fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if c != '\'' && !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// The first `len` letters and digits, uppercased, for SKU parts.
fn code(text: &str, len: usize) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(len)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// "Over-Ear Headphones" → "Over-ear headphones"; all-caps words such as
/// "LED" or "USB-C" keep their case.
fn sentence_case(text: &str) -> String {
    let words = text.split(' ').enumerate().map(|(i, word)| {
        if !word.chars().any(|c| c.is_ascii_lowercase()) {
            return word.to_owned();
        }
        let lower = word.to_lowercase();
        let mut chars = lower.chars();
        match chars.next() {
            Some(first) if i == 0 => first.to_uppercase().chain(chars).collect(),
            _ => lower,
        }
    });
    words.collect::<Vec<_>>().join(" ")
}

/// A product the demo must always contain, whatever the generator draws.
struct Special {
    name: &'static str,
    brand: &'static str,
    category: &'static str,
    sku: &'static str,
    price_cents: i64,
    stock: u32,
    featured: bool,
    description: &'static str,
}

/// The first is the example product of the design document. The rest give
/// search a shared word to rank: several brands and categories put
/// "Wireless" in the name, and two mention it only in the description.
const SPECIALS: &[Special] = &[
    Special {
        name: "TechBrand Wireless Headphones",
        brand: "TechBrand",
        category: "headphones",
        sku: "WH-001",
        price_cents: 9_999,
        stock: 50,
        featured: true,
        description: "Over-ear Bluetooth headphones with 30-hour battery life and active noise cancellation.",
    },
    Special {
        name: "Acoustica Wireless Headphones Pro",
        brand: "Acoustica",
        category: "headphones",
        sku: "WH-002",
        price_cents: 17_999,
        stock: 34,
        featured: true,
        description: "Flagship over-ear headphones with adaptive noise cancellation and lossless codec support.",
    },
    Special {
        name: "Auralis Wireless Earbuds Sport",
        brand: "Auralis",
        category: "headphones",
        sku: "WE-001",
        price_cents: 7_999,
        stock: 120,
        featured: false,
        description: "Sweat-proof earbuds with secure ear hooks and an eight-hour battery.",
    },
    Special {
        name: "Boomline Wireless Speaker Mini",
        brand: "Boomline",
        category: "speakers",
        sku: "WS-001",
        price_cents: 4_999,
        stock: 85,
        featured: false,
        description: "Palm-sized waterproof speaker with a clip-on strap and 12 hours of playback.",
    },
    Special {
        name: "Auralis Wireless Bookshelf Speakers",
        brand: "Auralis",
        category: "speakers",
        sku: "WS-002",
        price_cents: 29_999,
        stock: 18,
        featured: false,
        description: "Powered stereo pair with a built-in phono stage and Wi-Fi streaming.",
    },
    Special {
        name: "Keystone Wireless Ergonomic Mouse",
        brand: "Keystone",
        category: "computer-accessories",
        sku: "WM-001",
        price_cents: 3_499,
        stock: 140,
        featured: false,
        description: "Vertical mouse with silent clicks and a rechargeable battery that lasts for months.",
    },
    Special {
        name: "TechBrand Wireless Mechanical Keyboard",
        brand: "TechBrand",
        category: "computer-accessories",
        sku: "WK-001",
        price_cents: 8_999,
        stock: 60,
        featured: false,
        description: "Low-profile keyboard with hot-swappable switches and per-key backlighting.",
    },
    Special {
        name: "Acoustica Studio Reference Headphones",
        brand: "Acoustica",
        category: "headphones",
        sku: "SR-001",
        price_cents: 19_999,
        stock: 22,
        featured: false,
        description: "Open-back studio headphones that switch between a wired cable and a low-latency wireless link.",
    },
    Special {
        name: "Lumora Halo Charging Desk Lamp",
        brand: "Lumora",
        category: "lighting",
        sku: "DL-001",
        price_cents: 6_999,
        stock: 75,
        featured: false,
        description: "Dimmable desk lamp with a wireless phone charger built into its base.",
    },
    Special {
        name: "TechBrand Aero 14 Laptop",
        brand: "TechBrand",
        category: "laptops",
        sku: "LT-001",
        price_cents: 129_999,
        stock: 25,
        featured: true,
        description: "Thin-and-light laptop with a 14-inch OLED display and an 18-hour battery.",
    },
];

/// (slug, name, parent slug, description), parents first.
#[rustfmt::skip]
const CATEGORIES: &[(&str, &str, Option<&str>, &str)] = &[
    ("electronics", "Electronics", None, "Audio, computers, phones and wearables."),
    ("home-kitchen", "Home & Kitchen", None, "Cookware, appliances and lighting for the home."),
    ("sports-outdoors", "Sports & Outdoors", None, "Camping gear and fitness equipment."),
    ("clothing", "Clothing", None, "Apparel and footwear for men and women."),
    ("books", "Books", None, "Fiction and non-fiction in print and e-book."),
    ("audio", "Audio", Some("electronics"), "Headphones and speakers."),
    ("computers", "Computers", Some("electronics"), "Laptops and the accessories around them."),
    ("phones", "Phones", Some("electronics"), "Smartphones from the major makers."),
    ("wearables", "Wearables", Some("electronics"), "Watches and trackers worn every day."),
    ("kitchen", "Kitchen", Some("home-kitchen"), "Pots, pans and countertop appliances."),
    ("home-decor", "Home Decor", Some("home-kitchen"), "Lamps and lights for every room."),
    ("camping", "Camping", Some("sports-outdoors"), "Shelter and sleep systems for the trail."),
    ("fitness", "Fitness", Some("sports-outdoors"), "Equipment for home workouts."),
    ("men", "Men", Some("clothing"), "Men's outerwear and basics."),
    ("women", "Women", Some("clothing"), "Women's outerwear and dresses."),
    ("footwear", "Footwear", Some("clothing"), "Shoes for running and training."),
    ("fiction", "Fiction", Some("books"), "Novels across the popular genres."),
    ("non-fiction", "Non-Fiction", Some("books"), "Cookbooks, biographies and more."),
    ("headphones", "Headphones", Some("audio"), "Over-ear, on-ear and in-ear headphones."),
    ("speakers", "Speakers", Some("audio"), "Portable, bookshelf and smart speakers."),
    ("laptops", "Laptops", Some("computers"), "Ultrabooks, creator and gaming laptops."),
    ("computer-accessories", "Computer Accessories", Some("computers"), "Keyboards, mice, hubs and stands."),
    ("smartphones", "Smartphones", Some("phones"), "Unlocked 5G smartphones."),
    ("smartwatches", "Smartwatches", Some("wearables"), "Smartwatches and GPS fitness watches."),
    ("cookware", "Cookware", Some("kitchen"), "Skillets, saucepans, Dutch ovens and woks."),
    ("small-appliances", "Small Appliances", Some("kitchen"), "Coffee makers, mixers, blenders and kettles."),
    ("lighting", "Lighting", Some("home-decor"), "Floor, desk, table and pendant lights."),
    ("tents", "Tents", Some("camping"), "Backpacking and family tents."),
    ("sleeping-bags", "Sleeping Bags", Some("camping"), "Down and synthetic sleeping bags."),
    ("yoga", "Yoga", Some("fitness"), "Mats, blocks, straps and cushions."),
    ("strength-training", "Strength Training", Some("fitness"), "Dumbbells, kettlebells, benches and bands."),
    ("mens-jackets", "Men's Jackets", Some("men"), "Rain, down and softshell jackets for men."),
    ("mens-t-shirts", "Men's T-Shirts", Some("men"), "Everyday cotton tees and henleys."),
    ("womens-jackets", "Women's Jackets", Some("women"), "Rain jackets, puffers and trench coats for women."),
    ("dresses", "Dresses", Some("women"), "Wrap, midi, maxi and shirt dresses."),
    ("running-shoes", "Running Shoes", Some("footwear"), "Road and trail running shoes."),
    ("mystery", "Mystery", Some("fiction"), "Detective stories and thrillers."),
    ("science-fiction", "Science Fiction", Some("fiction"), "Space opera and near-future fiction."),
    ("cookbooks", "Cookbooks", Some("non-fiction"), "Recipes for every kitchen."),
    ("biographies", "Biographies", Some("non-fiction"), "Lives worth reading about."),
];

type Spec = (&'static str, &'static [&'static str]);

enum Naming {
    /// "{brand} {model} {noun} {trim}".
    Branded,
    /// "{model} {noun}", a book title; `kind` opens the description.
    Titled { kind: &'static str },
}

/// The word lists one leaf category draws its products from.
struct Leaf {
    category: &'static str,
    sku_prefix: &'static str,
    count: usize,
    naming: Naming,
    brands: &'static [&'static str],
    models: &'static [&'static str],
    nouns: &'static [&'static str],
    /// `""` stands for no trim.
    trims: &'static [&'static str],
    /// Whole dollars; prices end in .99.
    dollars: (i64, i64),
    /// Phrases that read after "with".
    features: &'static [&'static str],
    /// The first two are always used, so put the telling ones first.
    specs: &'static [Spec],
    tags: &'static [&'static str],
    /// `{brand}` is replaced by the product's brand.
    closings: &'static [&'static str],
    variants: Option<&'static Axes>,
}

/// How a leaf's products split into variants: every value of `primary`,
/// in one or two values of `secondary`.
struct Axes {
    /// Share of the leaf's products that get variants, in percent.
    percent: usize,
    primary: &'static str,
    /// Value and price change in cents; a change overrides the variant's price.
    values: &'static [(&'static str, i64)],
    secondary: &'static str,
    choices: &'static [&'static str],
}

impl Axes {
    /// Whether the `made`-th product of the leaf (from 1) gets variants:
    /// exactly `percent` of them, spread evenly, whatever the generator draws.
    fn applies_to(&self, made: usize) -> bool {
        made * self.percent / 100 != (made - 1) * self.percent / 100
    }

    /// Two to six variants: every primary value in one secondary choice, or
    /// the middle three (the sizes that sell) in two.
    fn variants(&self, sku: &str, price_cents: i64, rng: &mut SplitMix64) -> Vec<SeedVariant> {
        let pairs = 1 + rng.below(2);
        let choices = rng.pick(self.choices, pairs);
        let values = if pairs == 1 || self.values.len() <= 3 {
            self.values
        } else {
            let start = (self.values.len() - 3) / 2;
            &self.values[start..start + 3]
        };
        let mut variants = Vec::new();
        for choice in choices {
            for &(value, delta) in values {
                variants.push(SeedVariant {
                    sku: format!("{sku}-{}-{}", code(value, 5), code(choice, 3)),
                    options: vec![
                        (self.primary.to_owned(), value.to_owned()),
                        (self.secondary.to_owned(), choice.to_owned()),
                    ],
                    price_cents: (delta != 0).then_some(price_cents + delta),
                    stock: rng.range(0, i64::from(MAX_VARIANT_STOCK)) as u32,
                });
            }
        }
        if variants.iter().all(|variant| variant.stock == 0) {
            variants[0].stock = 1 + rng.below(MAX_VARIANT_STOCK as usize) as u32;
        }
        variants
    }
}

const ELECTRONICS_CLOSINGS: &[&str] = &[
    "{brand} backs it with a two-year limited warranty.",
    "Regular firmware updates from {brand} keep it current.",
    "Every unit is tested by {brand} before it ships.",
];
const HOME_CLOSINGS: &[&str] = &[
    "{brand} covers it with a five-year warranty.",
    "Designed in-house by {brand} for everyday use.",
    "{brand} offers free replacement parts for the first year.",
];
const OUTDOOR_CLOSINGS: &[&str] = &[
    "Field-tested by the {brand} team through all four seasons.",
    "{brand} repairs it for free for the first three years.",
    "Made by {brand} from bluesign-approved materials.",
];
const APPAREL_CLOSINGS: &[&str] = &[
    "{brand} offers free size exchanges within 30 days.",
    "Cut and sewn to {brand}'s own fit standards.",
    "Made by {brand} in audited, fair-wage factories.",
];
const BOOK_CLOSINGS: &[&str] = &[
    "Published by {brand} in paperback, hardcover and e-book.",
    "A {brand} staff pick this season.",
    "Printed by {brand} on FSC-certified paper.",
];

const MENS_SIZES: &[(&str, i64)] = &[("S", 0), ("M", 0), ("L", 0), ("XL", 0), ("XXL", 300)];
const WOMENS_SIZES: &[(&str, i64)] = &[("XS", 0), ("S", 0), ("M", 0), ("L", 0), ("XL", 0)];

const LAPTOP_AXES: Axes = Axes {
    percent: 30,
    primary: "Storage",
    values: &[("512GB", 0), ("1TB", 15_000), ("2TB", 35_000)],
    secondary: "Color",
    choices: &["Silver", "Space Grey"],
};
const PHONE_AXES: Axes = Axes {
    percent: 50,
    primary: "Storage",
    values: &[("128GB", 0), ("256GB", 10_000), ("512GB", 25_000)],
    secondary: "Color",
    choices: &["Obsidian", "Glacier", "Sage"],
};
const WATCH_AXES: Axes = Axes {
    percent: 40,
    primary: "Case",
    values: &[("41mm", 0), ("45mm", 3_000)],
    secondary: "Band",
    choices: &["Black", "Sand", "Midnight"],
};
const MENS_JACKET_AXES: Axes = Axes {
    percent: 50,
    primary: "Size",
    values: MENS_SIZES,
    secondary: "Color",
    choices: &["Black", "Navy", "Olive"],
};
const MENS_TEE_AXES: Axes = Axes {
    percent: 50,
    primary: "Size",
    values: MENS_SIZES,
    secondary: "Color",
    choices: &["White", "Black", "Heather Grey", "Navy"],
};
const WOMENS_JACKET_AXES: Axes = Axes {
    percent: 50,
    primary: "Size",
    values: WOMENS_SIZES,
    secondary: "Color",
    choices: &["Black", "Camel", "Sage"],
};
const DRESS_AXES: Axes = Axes {
    percent: 50,
    primary: "Size",
    values: WOMENS_SIZES,
    secondary: "Color",
    choices: &["Black", "Terracotta", "Floral Print"],
};
const SHOE_AXES: Axes = Axes {
    percent: 50,
    primary: "Size",
    values: &[("8", 0), ("9", 0), ("10", 0), ("11", 0), ("12", 0)],
    secondary: "Color",
    choices: &["Black/White", "Volt", "Ocean Blue"],
};

/// One entry per leaf category. Left unformatted: rustfmt would put each word
/// of every list on a line of its own.
#[rustfmt::skip]
const LEAVES: &[Leaf] = &[
    Leaf {
        category: "headphones",
        sku_prefix: "HP",
        count: 10,
        naming: Naming::Branded,
        brands: &["TechBrand", "Acoustica", "Auralis", "Sonique"],
        models: &["Pulse", "Vibe", "Echo", "Nova", "Aria"],
        nouns: &["Over-Ear Headphones", "On-Ear Headphones", "Noise-Cancelling Headphones", "Studio Headphones"],
        trims: &["", "Pro", "Lite"],
        dollars: (29, 349),
        features: &[
            "40 mm dynamic drivers",
            "active noise cancellation",
            "up to 30 hours of battery life",
            "plush memory-foam ear cushions",
            "a foldable, travel-ready frame",
            "Bluetooth 5.3 wireless pairing",
            "a detachable braided cable",
            "multipoint connection to two devices",
        ],
        specs: &[
            ("color", &["Black", "White", "Midnight Blue", "Silver"]),
            ("weight", &["230g", "250g", "275g", "310g"]),
            ("batteryLife", &["20 hours", "30 hours", "40 hours"]),
            ("driverSize", &["40mm", "45mm", "50mm"]),
            ("connectivity", &["Bluetooth 5.3", "Bluetooth 5.2 + 3.5mm"]),
        ],
        tags: &["bluetooth", "noise-cancelling", "over-ear", "audio", "travel", "wireless"],
        closings: ELECTRONICS_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "speakers",
        sku_prefix: "SPK",
        count: 10,
        naming: Naming::Branded,
        brands: &["Acoustica", "Boomline", "Auralis"],
        models: &["Roam", "Arc", "Tide", "Wave", "Halo"],
        nouns: &["Portable Speaker", "Bookshelf Speakers", "Soundbar", "Smart Speaker"],
        trims: &["", "Mini", "Max"],
        dollars: (24, 499),
        features: &[
            "360-degree sound",
            "an IP67 waterproof rating",
            "12 hours of playback",
            "a built-in microphone for calls",
            "stereo pairing with a second unit",
            "deep, punchy bass",
            "wireless streaming over Wi-Fi and Bluetooth",
        ],
        specs: &[
            ("color", &["Black", "Stone", "Forest Green", "Red"]),
            ("outputPower", &["10W", "20W", "40W", "60W"]),
            ("batteryLife", &["8 hours", "12 hours", "24 hours"]),
            ("waterproofRating", &["IP67", "IPX5", "None"]),
        ],
        tags: &["bluetooth", "portable", "waterproof", "speaker", "party"],
        closings: ELECTRONICS_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "laptops",
        sku_prefix: "LPT",
        count: 10,
        naming: Naming::Branded,
        brands: &["TechBrand", "Voltix", "Corevia"],
        models: &["Aero 14", "Forge 16", "Vector 15", "Slate 13", "Ultra 14"],
        nouns: &["Laptop", "Notebook", "2-in-1 Laptop", "Creator Laptop", "Gaming Laptop"],
        trims: &["", "Pro"],
        dollars: (549, 1799),
        features: &[
            "an all-day battery",
            "a 2.8K OLED display",
            "a backlit keyboard",
            "Wi-Fi 6E",
            "a 1080p webcam with a privacy shutter",
            "two Thunderbolt 4 ports",
            "an aluminium unibody chassis",
        ],
        specs: &[
            ("processor", &["8-core", "10-core", "12-core"]),
            ("memory", &["16GB", "32GB"]),
            ("weight", &["1.2kg", "1.4kg", "1.8kg", "2.1kg"]),
            ("batteryLife", &["12 hours", "15 hours", "18 hours"]),
        ],
        tags: &["laptop", "ultrabook", "work", "gaming"],
        closings: ELECTRONICS_CLOSINGS,
        variants: Some(&LAPTOP_AXES),
    },
    Leaf {
        category: "computer-accessories",
        sku_prefix: "ACC",
        count: 10,
        naming: Naming::Branded,
        brands: &["TechBrand", "Keystone", "Voltix"],
        models: &["Flow", "Glide", "Core", "Swift", "Atlas"],
        nouns: &["Mechanical Keyboard", "Ergonomic Mouse", "USB-C Hub", "Laptop Stand", "Webcam"],
        trims: &["", "Pro"],
        dollars: (19, 179),
        features: &[
            "plug-and-play USB-C connection",
            "an aluminium unibody",
            "a compact, desk-friendly footprint",
            "support for Windows, macOS and Linux",
            "a braided 1.5 m cable",
            "a low-latency wireless mode",
        ],
        specs: &[
            ("color", &["Black", "Graphite", "White"]),
            ("connectivity", &["USB-C", "Bluetooth", "2.4GHz receiver"]),
            ("compatibility", &["Windows, macOS, Linux", "Windows, macOS"]),
            ("warranty", &["1 year", "2 years"]),
        ],
        tags: &["accessories", "desk-setup", "usb-c", "ergonomic"],
        closings: ELECTRONICS_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "smartphones",
        sku_prefix: "PHN",
        count: 10,
        naming: Naming::Branded,
        brands: &["Voltix", "Nimbus", "Corevia"],
        models: &["X12", "Edge", "Nova 5", "Lite 3", "Fold"],
        nouns: &["Smartphone", "5G Smartphone"],
        trims: &["", "Plus", "Ultra"],
        dollars: (199, 1199),
        features: &[
            "a 6.7-inch AMOLED display",
            "a triple-lens 50 MP camera",
            "65 W fast charging",
            "an IP68 dust and water rating",
            "five years of security updates",
            "Qi wireless charging",
        ],
        specs: &[
            ("display", &["6.1-inch", "6.4-inch", "6.7-inch"]),
            ("camera", &["48MP", "50MP", "108MP"]),
            ("battery", &["4500mAh", "5000mAh"]),
            ("os", &["Android 15"]),
        ],
        tags: &["smartphone", "5g", "unlocked", "android"],
        closings: ELECTRONICS_CLOSINGS,
        variants: Some(&PHONE_AXES),
    },
    Leaf {
        category: "smartwatches",
        sku_prefix: "SW",
        count: 10,
        naming: Naming::Branded,
        brands: &["Pulsewave", "TechBrand", "Nimbus"],
        models: &["Stride", "Vita", "Core", "Trail", "Loop"],
        nouns: &["Smartwatch", "Fitness Watch", "GPS Watch"],
        trims: &["", "2", "Sport"],
        dollars: (79, 449),
        features: &[
            "built-in GPS",
            "heart-rate and sleep tracking",
            "up to 10 days of battery life",
            "a sapphire crystal display",
            "contactless payments",
            "water resistance to 50 metres",
        ],
        specs: &[
            ("caseMaterial", &["Aluminium", "Stainless steel", "Titanium"]),
            ("batteryLife", &["5 days", "7 days", "10 days"]),
            ("waterResistance", &["5 ATM", "10 ATM"]),
            ("display", &["AMOLED", "MIP"]),
        ],
        tags: &["smartwatch", "fitness-tracker", "gps", "waterproof"],
        closings: ELECTRONICS_CLOSINGS,
        variants: Some(&WATCH_AXES),
    },
    Leaf {
        category: "cookware",
        sku_prefix: "CKW",
        count: 10,
        naming: Naming::Branded,
        brands: &["IronHearth", "Culinara", "Copperline"],
        models: &["Heritage", "Everyday", "Chef's", "Pro-Ply", "Classic"],
        nouns: &["Cast Iron Skillet", "Dutch Oven", "Saucepan", "Stockpot", "Frying Pan", "Wok"],
        trims: &[""],
        dollars: (24, 349),
        features: &[
            "even heat distribution",
            "oven-safe construction up to 260 C",
            "a pre-seasoned surface",
            "stay-cool riveted handles",
            "compatibility with induction hobs",
            "a dishwasher-safe finish",
            "a tight-fitting lid",
        ],
        specs: &[
            ("material", &["Cast iron", "Stainless steel", "Hard-anodised aluminium", "Copper core"]),
            ("capacity", &["2L", "3.5L", "5L", "7L"]),
            ("diameter", &["20cm", "24cm", "28cm"]),
            ("inductionReady", &["Yes", "No"]),
        ],
        tags: &["cookware", "induction", "oven-safe", "non-stick", "cast-iron"],
        closings: HOME_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "small-appliances",
        sku_prefix: "APL",
        count: 10,
        naming: Naming::Branded,
        brands: &["Culinara", "BrewMaster", "Hearthwise"],
        models: &["Barista", "Daily", "Smart", "Compact", "Elite"],
        nouns: &["Espresso Machine", "Drip Coffee Maker", "Stand Mixer", "Air Fryer", "Blender", "Electric Kettle"],
        trims: &[""],
        dollars: (29, 699),
        features: &[
            "programmable presets",
            "a brushed stainless-steel housing",
            "an automatic shut-off",
            "removable dishwasher-safe parts",
            "a quiet, high-torque motor",
            "a one-touch cleaning cycle",
        ],
        specs: &[
            ("power", &["1200W", "1500W", "1800W"]),
            ("capacity", &["1.2L", "1.7L", "4L", "5.5L"]),
            ("color", &["Black", "Cream", "Stainless"]),
            ("warranty", &["1 year", "2 years"]),
        ],
        tags: &["kitchen", "coffee", "appliance", "programmable"],
        closings: HOME_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "lighting",
        sku_prefix: "LGT",
        count: 10,
        naming: Naming::Branded,
        brands: &["Lumora", "Glowhaus"],
        models: &["Halo", "Beam", "Orbit", "Luna", "Arc"],
        nouns: &["Floor Lamp", "Desk Lamp", "Pendant Light", "Table Lamp", "LED Strip"],
        trims: &[""],
        dollars: (19, 299),
        features: &[
            "dimmable warm-to-cool LED light",
            "app and voice control",
            "a weighted marble base",
            "energy-efficient 9 W LEDs",
            "a touch-sensitive switch",
            "an adjustable swing arm",
        ],
        specs: &[
            ("color", &["Matte Black", "Brass", "White"]),
            ("colorTemperature", &["2700K-6500K", "3000K"]),
            ("power", &["9W", "12W", "24W"]),
            ("material", &["Metal", "Glass", "Linen"]),
        ],
        tags: &["lighting", "led", "smart-home", "dimmable"],
        closings: HOME_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "tents",
        sku_prefix: "TNT",
        count: 10,
        naming: Naming::Branded,
        brands: &["NorthPeak", "TrailCraft", "Ridgeline"],
        models: &["Summit", "Basecamp", "Alpine", "Sierra", "Trailhead"],
        nouns: &["2-Person Tent", "4-Person Tent", "Ultralight Tent", "Family Tent", "Backpacking Tent"],
        trims: &[""],
        dollars: (89, 799),
        features: &[
            "a 3000 mm waterproof rain fly",
            "colour-coded poles for quick pitching",
            "two doors and two vestibules",
            "a packed weight under 2 kg",
            "fully taped seams",
            "full-mesh inner walls for ventilation",
        ],
        specs: &[
            ("weight", &["1.4kg", "2.1kg", "3.8kg", "6.5kg"]),
            ("poles", &["Aluminium", "Fibreglass", "Carbon"]),
            ("seasonRating", &["3-season", "4-season"]),
            ("waterproofRating", &["2000mm", "3000mm", "5000mm"]),
        ],
        tags: &["camping", "waterproof", "ultralight", "backpacking", "tent"],
        closings: OUTDOOR_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "sleeping-bags",
        sku_prefix: "SLB",
        count: 10,
        naming: Naming::Branded,
        brands: &["NorthPeak", "Ridgeline", "TrailCraft"],
        models: &["Ember", "Glacier", "Cocoon", "Drift", "Polar"],
        nouns: &["Down Sleeping Bag", "Synthetic Sleeping Bag", "Mummy Sleeping Bag", "Rectangular Sleeping Bag"],
        trims: &[""],
        dollars: (49, 449),
        features: &[
            "a comfort rating down to -5 C",
            "moisture-resistant insulation",
            "a full-length two-way zip",
            "an insulated draft collar",
            "a compression stuff sack",
            "a recycled ripstop shell",
        ],
        specs: &[
            ("temperatureRating", &["-10C", "-5C", "0C", "5C"]),
            ("shell", &["Recycled ripstop nylon", "Pertex Quantum", "Polyester taffeta"]),
            ("weight", &["900g", "1.2kg", "1.6kg"]),
            ("packedSize", &["18 x 30 cm", "22 x 38 cm"]),
        ],
        tags: &["camping", "sleeping-bag", "backpacking", "lightweight"],
        closings: OUTDOOR_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "yoga",
        sku_prefix: "YOG",
        count: 10,
        naming: Naming::Branded,
        brands: &["ZenFlow", "Lotusform"],
        models: &["Balance", "Align", "Grounded", "Anchor", "Studio"],
        nouns: &["Yoga Mat", "Yoga Block Set", "Yoga Strap", "Travel Yoga Mat", "Meditation Cushion"],
        trims: &[""],
        dollars: (12, 149),
        features: &[
            "a non-slip natural rubber surface",
            "6 mm of joint-friendly cushioning",
            "printed alignment lines",
            "a sweat-resistant finish",
            "a carrying strap",
            "PVC-free materials",
        ],
        specs: &[
            ("material", &["Natural rubber", "TPE", "Cork", "Cotton"]),
            ("color", &["Sage", "Clay", "Slate", "Lavender"]),
            ("thickness", &["4mm", "6mm", "8mm"]),
            ("weight", &["0.9kg", "1.8kg", "2.5kg"]),
        ],
        tags: &["yoga", "fitness", "non-slip", "eco-friendly"],
        closings: OUTDOOR_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "strength-training",
        sku_prefix: "STR",
        count: 10,
        naming: Naming::Branded,
        brands: &["IronCore", "Forgefit"],
        models: &["Pro", "Titan", "Home", "Compact", "Elite"],
        nouns: &["Adjustable Dumbbells", "Kettlebell", "Resistance Band Set", "Weight Bench", "Pull-Up Bar"],
        trims: &[""],
        dollars: (19, 599),
        features: &[
            "a quick-change weight dial",
            "knurled, chrome-plated handles",
            "a powder-coated steel frame",
            "a compact footprint for home gyms",
            "a non-scratch base",
            "progressive resistance levels",
        ],
        specs: &[
            ("material", &["Steel", "Cast iron", "Latex"]),
            ("maxLoad", &["20kg", "32kg", "150kg", "300kg"]),
            ("weight", &["4kg", "12kg", "24kg"]),
            ("color", &["Black", "Red", "Grey"]),
        ],
        tags: &["fitness", "strength", "home-gym", "weights"],
        closings: OUTDOOR_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "mens-jackets",
        sku_prefix: "MJK",
        count: 10,
        naming: Naming::Branded,
        brands: &["NorthPeak", "Urban Thread", "Hollis & Finch"],
        models: &["Storm", "Voyager", "Harbor", "Ridge", "Metro"],
        nouns: &["Rain Jacket", "Down Jacket", "Softshell Jacket", "Bomber Jacket", "Field Jacket"],
        trims: &[""],
        dollars: (59, 399),
        features: &[
            "a waterproof, breathable membrane",
            "a packable hood",
            "sealed seams",
            "recycled insulation",
            "zippered hand pockets",
            "an adjustable drawcord hem",
        ],
        specs: &[
            ("material", &["Recycled nylon", "Polyester", "Cotton twill", "Down fill"]),
            ("fit", &["Regular", "Slim", "Relaxed"]),
            ("care", &["Machine wash cold", "Dry clean only"]),
            ("waterproofRating", &["10000mm", "20000mm", "None"]),
        ],
        tags: &["outerwear", "waterproof", "mens", "jacket"],
        closings: APPAREL_CLOSINGS,
        variants: Some(&MENS_JACKET_AXES),
    },
    Leaf {
        category: "mens-t-shirts",
        sku_prefix: "MTS",
        count: 10,
        naming: Naming::Branded,
        brands: &["Urban Thread", "Cotton Lane"],
        models: &["Essential", "Heritage", "Everyday", "Pima", "Vintage"],
        nouns: &["Crew-Neck T-Shirt", "V-Neck T-Shirt", "Pocket T-Shirt", "Henley", "Long-Sleeve T-Shirt"],
        trims: &[""],
        dollars: (12, 49),
        features: &[
            "soft combed cotton",
            "a tag-free neckline",
            "pre-shrunk fabric",
            "reinforced shoulder seams",
            "a relaxed everyday fit",
        ],
        specs: &[
            ("material", &["100% cotton", "Cotton blend", "Organic cotton"]),
            ("fit", &["Regular", "Slim", "Relaxed"]),
            ("care", &["Machine wash cold", "Tumble dry low"]),
        ],
        tags: &["mens", "t-shirt", "cotton", "basics"],
        closings: APPAREL_CLOSINGS,
        variants: Some(&MENS_TEE_AXES),
    },
    Leaf {
        category: "womens-jackets",
        sku_prefix: "WJK",
        count: 10,
        naming: Naming::Branded,
        brands: &["NorthPeak", "Hollis & Finch", "Maison Lila"],
        models: &["Aurora", "Cascade", "Meadow", "Willow", "City"],
        nouns: &["Rain Jacket", "Puffer Jacket", "Trench Coat", "Denim Jacket", "Quilted Jacket"],
        trims: &[""],
        dollars: (59, 349),
        features: &[
            "a water-repellent finish",
            "a detachable hood",
            "a tailored, belted fit",
            "lightweight recycled insulation",
            "deep interior pockets",
            "a two-way front zip",
        ],
        specs: &[
            ("material", &["Recycled polyester", "Cotton gabardine", "Denim", "Nylon ripstop"]),
            ("fit", &["Regular", "Tailored", "Oversized"]),
            ("care", &["Machine wash cold", "Dry clean only"]),
            ("length", &["Hip", "Mid-thigh", "Knee"]),
        ],
        tags: &["outerwear", "womens", "jacket", "waterproof"],
        closings: APPAREL_CLOSINGS,
        variants: Some(&WOMENS_JACKET_AXES),
    },
    Leaf {
        category: "dresses",
        sku_prefix: "DRS",
        count: 10,
        naming: Naming::Branded,
        brands: &["Maison Lila", "Cotton Lane"],
        models: &["Riviera", "Garden", "Sunday", "Evening", "Linen"],
        nouns: &["Wrap Dress", "Midi Dress", "Maxi Dress", "Shirt Dress", "Slip Dress"],
        trims: &[""],
        dollars: (29, 199),
        features: &[
            "a flattering wrap silhouette",
            "breathable linen-blend fabric",
            "hidden side pockets",
            "an adjustable tie waist",
            "a fully lined skirt",
            "a wrinkle-resistant weave",
        ],
        specs: &[
            ("material", &["Linen blend", "Viscose", "Cotton poplin", "Satin"]),
            ("length", &["Knee", "Midi", "Maxi"]),
            ("fit", &["Regular", "Relaxed"]),
            ("care", &["Machine wash cold", "Hand wash"]),
        ],
        tags: &["womens", "dress", "summer", "occasion"],
        closings: APPAREL_CLOSINGS,
        variants: Some(&DRESS_AXES),
    },
    Leaf {
        category: "running-shoes",
        sku_prefix: "RUN",
        count: 10,
        naming: Naming::Branded,
        brands: &["Stridewell", "Fleetfoot"],
        models: &["Tempo", "Glide", "Apex", "Velocity", "Cloudline"],
        nouns: &["Running Shoes", "Trail Running Shoes", "Racing Flats"],
        trims: &["", "2", "3"],
        dollars: (59, 219),
        features: &[
            "a responsive foam midsole",
            "a breathable engineered-mesh upper",
            "a grippy rubber outsole",
            "an 8 mm heel-to-toe drop",
            "reflective details for low light",
            "a carbon-fibre propulsion plate",
        ],
        specs: &[
            ("drop", &["4mm", "8mm", "10mm"]),
            ("weight", &["220g", "260g", "290g"]),
            ("surface", &["Road", "Trail", "Track"]),
            ("cushioning", &["Light", "Balanced", "Max"]),
        ],
        tags: &["running", "shoes", "trail", "lightweight"],
        closings: APPAREL_CLOSINGS,
        variants: Some(&SHOE_AXES),
    },
    Leaf {
        category: "mystery",
        sku_prefix: "MYS",
        count: 11,
        naming: Naming::Titled { kind: "Mystery novel" },
        brands: &["Quillstone Press", "Blackbird Books"],
        models: &["The Silent", "The Last", "A Quiet", "The Hollow", "Beneath the", "The Ninth"],
        nouns: &["Harbor", "Witness", "Orchard", "Lighthouse", "Alibi", "Ledger"],
        trims: &[""],
        dollars: (9, 32),
        features: &[
            "a locked-room puzzle",
            "an unreliable narrator",
            "a coastal small-town setting",
            "a twist few readers see coming",
            "a detective with a past",
            "short, propulsive chapters",
        ],
        specs: &[
            ("author", &["Margaret Vale", "Elliot Crane", "Priya Natarajan", "Tomas Reyes"]),
            ("format", &["Paperback", "Hardcover", "E-book"]),
            ("pages", &["256", "304", "352", "416"]),
            ("language", &["English"]),
            ("publicationYear", &["2019", "2021", "2023", "2024"]),
        ],
        tags: &["mystery", "fiction", "bestseller", "book-club"],
        closings: BOOK_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "science-fiction",
        sku_prefix: "SCI",
        count: 11,
        naming: Naming::Titled { kind: "Science fiction novel" },
        brands: &["Starwell Publishing", "Blackbird Books"],
        models: &["The Glass", "Echoes of the", "The Iron", "Children of the", "The Far"],
        nouns: &["Nebula", "Orbit", "Signal", "Frontier", "Colony", "Engine"],
        trims: &[""],
        dollars: (9, 34),
        features: &[
            "a generation ship on the brink",
            "first contact told from both sides",
            "hard-science worldbuilding",
            "a sprawling interstellar cast",
            "a near-future thriller pace",
            "an artificial intelligence narrator",
        ],
        specs: &[
            ("author", &["Jun Okafor", "Lena Strand", "Caspian Hale", "Ada Whitlock"]),
            ("format", &["Paperback", "Hardcover", "E-book"]),
            ("pages", &["320", "384", "448", "512"]),
            ("language", &["English"]),
            ("series", &["Standalone", "Book 1", "Book 2"]),
        ],
        tags: &["science-fiction", "fiction", "space-opera", "award-winner"],
        closings: BOOK_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "cookbooks",
        sku_prefix: "CBK",
        count: 11,
        naming: Naming::Titled { kind: "Cookbook" },
        brands: &["Quillstone Press", "Saffron House"],
        models: &["The Weeknight", "The Modern", "The Seasonal", "The Plant-Based", "The Sourdough"],
        nouns: &["Kitchen", "Table", "Pantry", "Skillet", "Oven"],
        trims: &[""],
        dollars: (14, 45),
        features: &[
            "over 100 tested recipes",
            "full-colour photography",
            "weeknight meals under 30 minutes",
            "a chapter on pantry staples",
            "vegetarian and vegan options",
            "step-by-step technique guides",
        ],
        specs: &[
            ("author", &["Nadia Farouk", "Sam Whitaker", "Rosa Delgado", "Kenji Mori"]),
            ("format", &["Hardcover", "Paperback", "E-book"]),
            ("pages", &["224", "288", "320"]),
            ("recipes", &["80", "100", "120"]),
        ],
        tags: &["cookbook", "recipes", "vegetarian", "baking"],
        closings: BOOK_CLOSINGS,
        variants: None,
    },
    Leaf {
        category: "biographies",
        sku_prefix: "BIO",
        count: 11,
        naming: Naming::Titled { kind: "Biography" },
        brands: &["Meridian Books", "Starwell Publishing"],
        models: &["A Life in", "The Age of", "Chasing", "Inside"],
        nouns: &["Jazz", "Steel", "the Stage", "the Kitchen", "the Summit", "the Newsroom"],
        trims: &[""],
        dollars: (12, 38),
        features: &[
            "unpublished letters and diaries",
            "more than 200 interviews",
            "a 16-page photo insert",
            "a brisk, novelistic narrative",
            "an in-depth look at a turbulent era",
        ],
        specs: &[
            ("author", &["Helen Marsh", "David Osei", "Clara Bianchi", "Owen Gallagher"]),
            ("format", &["Hardcover", "Paperback", "Audiobook"]),
            ("pages", &["368", "432", "512"]),
            ("language", &["English"]),
        ],
        tags: &["biography", "non-fiction", "history", "memoir"],
        closings: BOOK_CLOSINGS,
        variants: None,
    },
];

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    fn is_slug(text: &str) -> bool {
        !text.is_empty()
            && !text.starts_with('-')
            && !text.ends_with('-')
            && !text.contains("--")
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }

    fn total_stock(product: &SeedProduct) -> u32 {
        product.stock + product.variants.iter().map(|variant| variant.stock).sum::<u32>()
    }

    fn leaves(catalog: &SeedCatalog) -> HashSet<&str> {
        let parents: HashSet<&str> = catalog.categories.iter().filter_map(|c| c.parent.as_deref()).collect();
        catalog
            .categories
            .iter()
            .map(|c| c.slug.as_str())
            .filter(|slug| !parents.contains(slug))
            .collect()
    }

    fn active(catalog: &SeedCatalog) -> impl Iterator<Item = &SeedProduct> {
        catalog.products.iter().filter(|p| p.status == SeedStatus::Active)
    }

    #[test]
    fn every_call_returns_the_same_catalog() {
        assert_eq!(demo_catalog(), demo_catalog());
    }

    #[test]
    fn category_tree_is_deep_wide_and_ordered() {
        let catalog = demo_catalog();
        let mut seen = HashSet::new();
        let mut depth = HashMap::new();
        for category in &catalog.categories {
            assert!(is_slug(&category.slug), "bad slug {}", category.slug);
            assert!(!category.description.is_empty());
            let level = match &category.parent {
                None => 1,
                Some(parent) => {
                    assert!(
                        seen.contains(parent.as_str()),
                        "{} comes before its parent",
                        category.slug
                    );
                    depth[parent.as_str()] + 1
                }
            };
            assert!(seen.insert(category.slug.as_str()), "duplicate slug {}", category.slug);
            depth.insert(category.slug.as_str(), level);
        }
        let names: HashSet<&str> = catalog.categories.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names.len(), catalog.categories.len(), "category names repeat");
        assert!(catalog.categories.iter().filter(|c| c.parent.is_none()).count() >= 4);
        assert!(depth.values().copied().max().unwrap() >= 3);

        let leaves = leaves(&catalog);
        let used: HashSet<&str> = catalog.products.iter().map(|p| p.category.as_str()).collect();
        assert!(
            used.iter().all(|slug| leaves.contains(slug)),
            "a product sits on a non-leaf category"
        );
        assert!(leaves.iter().filter(|leaf| used.contains(*leaf)).count() >= 10);
        assert!(used.len() >= 12);
    }

    #[test]
    fn the_classic_paths_exist() {
        let catalog = demo_catalog();
        let parent_of: HashMap<&str, Option<&str>> = catalog
            .categories
            .iter()
            .map(|c| (c.slug.as_str(), c.parent.as_deref()))
            .collect();
        let path = |leaf: &str| {
            let mut path = vec![leaf.to_owned()];
            let mut at = leaf;
            while let Some(Some(parent)) = parent_of.get(at) {
                path.insert(0, (*parent).to_owned());
                at = parent;
            }
            path.join("/")
        };
        assert_eq!(path("headphones"), "electronics/audio/headphones");
        assert_eq!(path("laptops"), "electronics/computers/laptops");
        assert_eq!(path("cookware"), "home-kitchen/kitchen/cookware");
        assert_eq!(path("tents"), "sports-outdoors/camping/tents");
        assert_eq!(path("mens-jackets"), "clothing/men/mens-jackets");
        assert_eq!(path("mystery"), "books/fiction/mystery");
    }

    #[test]
    fn products_have_unique_well_formed_identities() {
        let catalog = demo_catalog();
        assert!(
            catalog.products.len() >= 220,
            "only {} products",
            catalog.products.len()
        );

        let mut slugs = HashSet::new();
        let mut names = HashSet::new();
        let mut skus = HashSet::new();
        for product in &catalog.products {
            assert!(is_slug(&product.slug), "bad slug {}", product.slug);
            assert!(slugs.insert(product.slug.as_str()), "duplicate slug {}", product.slug);
            assert!(names.insert(product.name.as_str()), "duplicate name {}", product.name);
            let all_skus = std::iter::once(&product.sku).chain(product.variants.iter().map(|v| &v.sku));
            for sku in all_skus {
                assert!(sku.len() <= 40, "long sku {sku}");
                assert!(
                    !sku.is_empty()
                        && sku
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'),
                    "bad sku {sku}"
                );
                assert!(skus.insert(sku.as_str()), "duplicate sku {sku}");
            }
        }
    }

    #[test]
    fn brands_are_many_and_separate_from_search_words() {
        let catalog = demo_catalog();
        let brands: HashSet<&str> = catalog.products.iter().map(|p| p.brand.as_str()).collect();
        assert!(brands.len() >= 18, "only {} brands", brands.len());
        assert!(brands.iter().all(|brand| !brand.to_lowercase().contains("wireless")));
        for product in &catalog.products {
            if matches!(leaf(&product.category).naming, Naming::Branded) {
                assert!(product.name.starts_with(&product.brand), "{}", product.name);
            }
        }
    }

    #[test]
    fn names_do_not_stutter() {
        for product in &demo_catalog().products {
            let brand = product.brand.to_lowercase();
            let rest = product.name.strip_prefix(&product.brand).unwrap_or(&product.name);
            let words: Vec<String> = rest
                .split([' ', '-'])
                .filter(|word| word.len() > 3)
                .map(str::to_lowercase)
                .collect();
            let distinct: HashSet<&String> = words.iter().collect();
            assert_eq!(distinct.len(), words.len(), "{} repeats a word", product.name);
            // "Boomline Boom" stutters; "IronHearth ... Cast Iron Skillet" does not.
            if let Some(model) = product.name.strip_prefix(&product.brand) {
                let model = model.split_whitespace().next().unwrap_or_default();
                assert!(
                    !brand.contains(&model.to_lowercase()),
                    "{} echoes its brand",
                    product.name
                );
            }
        }
    }

    #[test]
    fn prices_are_realistic_for_their_category() {
        let catalog = demo_catalog();
        let in_bounds = |cents: i64| (499..=MAX_PRICE_CENTS).contains(&cents);
        let mut discounted = 0;
        for product in &catalog.products {
            let (low, high) = leaf(&product.category).dollars;
            assert!(
                (low * 100..=high * 100 + 99).contains(&product.price_cents),
                "{} costs {}",
                product.name,
                product.price_cents
            );
            assert!(in_bounds(product.price_cents));
            if let Some(compare) = product.compare_price_cents {
                assert!(
                    in_bounds(compare) && compare > product.price_cents,
                    "{} compare {compare}",
                    product.name
                );
                discounted += 1;
            }
            for variant in &product.variants {
                assert!(variant.price_cents.is_none_or(in_bounds));
            }
        }
        let share = discounted * 100 / catalog.products.len();
        assert!((12..=28).contains(&share), "{share}% have a compare price");
    }

    #[test]
    fn some_products_have_variants_that_hold_their_stock() {
        let catalog = demo_catalog();
        let with_variants: Vec<&SeedProduct> = catalog.products.iter().filter(|p| !p.variants.is_empty()).collect();
        let share = with_variants.len() * 100 / catalog.products.len();
        assert!((10..=22).contains(&share), "{share}% have variants");
        for product in &with_variants {
            assert!(
                (2..=6).contains(&product.variants.len()),
                "{} has {}",
                product.name,
                product.variants.len()
            );
            assert_eq!(product.stock, 0, "{} keeps stock outside its variants", product.name);
            for variant in &product.variants {
                assert!(!variant.options.is_empty());
            }
            let combos: HashSet<&Vec<(String, String)>> = product.variants.iter().map(|v| &v.options).collect();
            assert_eq!(
                combos.len(),
                product.variants.len(),
                "{} repeats an option set",
                product.name
            );
        }
        assert!(
            with_variants
                .iter()
                .flat_map(|p| &p.variants)
                .any(|v| v.price_cents.is_some())
        );
        assert!(
            with_variants
                .iter()
                .flat_map(|p| &p.variants)
                .any(|v| v.price_cents.is_none())
        );
    }

    #[test]
    fn statuses_stock_and_featured_cover_the_edge_cases() {
        let catalog = demo_catalog();
        let count = |status| catalog.products.iter().filter(|p| p.status == status).count();
        assert!(count(SeedStatus::Draft) >= 5);
        assert!(count(SeedStatus::Archived) >= 2);
        assert!(active(&catalog).filter(|p| total_stock(p) == 0).count() >= 5);
        assert!(active(&catalog).filter(|p| p.featured).count() >= 12);
        assert!(
            catalog
                .products
                .iter()
                .filter(|p| p.featured)
                .all(|p| p.status == SeedStatus::Active)
        );
        for product in active(&catalog) {
            assert!(
                total_stock(product) <= 200,
                "{} holds {}",
                product.name,
                total_stock(product)
            );
        }
        assert!(active(&catalog).any(|p| (1..p.low_stock_threshold).contains(&total_stock(p))));
    }

    #[test]
    fn search_has_shared_words_to_rank() {
        let catalog = demo_catalog();
        let named: Vec<&SeedProduct> = active(&catalog)
            .filter(|p| total_stock(p) > 0 && p.name.split_whitespace().any(|word| word == "Wireless"))
            .collect();
        assert!(named.len() >= 6, "only {} wireless names", named.len());
        assert!(named.iter().map(|p| &p.category).collect::<HashSet<_>>().len() >= 2);
        assert!(named.iter().map(|p| &p.brand).collect::<HashSet<_>>().len() >= 3);

        let described = active(&catalog)
            .filter(|p| {
                p.description.to_lowercase().contains("wireless") && !p.name.to_lowercase().contains("wireless")
            })
            .count();
        assert!(described >= 2);
    }

    #[test]
    fn the_design_documents_example_product_is_there() {
        let catalog = demo_catalog();
        let product = catalog
            .products
            .iter()
            .find(|p| p.name == "TechBrand Wireless Headphones")
            .unwrap();
        assert_eq!(product.price_cents, 9_999);
        assert_eq!(product.slug, "techbrand-wireless-headphones");
        assert_eq!(product.sku, "WH-001");
        assert_eq!(product.category, "headphones");
        assert_eq!(product.stock, 50);
        assert_eq!(product.brand, "TechBrand");
        assert_eq!(product.status, SeedStatus::Active);
        assert!(product.variants.is_empty());
        assert!(active(&catalog).filter(|p| p.brand == "TechBrand").count() >= 3);
    }

    #[test]
    fn text_tags_specs_and_images_are_well_formed() {
        let catalog = demo_catalog();
        for product in &catalog.products {
            let description = &product.description;
            assert!(description.len() < 200, "{} description too long", product.name);
            assert!(description.ends_with('.') && !description.trim_end_matches('.').contains(". "));
            assert!(product.long_description.starts_with(description.as_str()));
            assert!(product.long_description.len() > description.len());
            assert!(!product.long_description.contains('{'));

            assert!((1..=4).contains(&product.tags.len()), "{} tags", product.name);
            assert_eq!(product.tags.iter().collect::<HashSet<_>>().len(), product.tags.len());
            assert!(product.tags.iter().all(|tag| is_slug(tag)), "{:?}", product.tags);

            assert!((2..=5).contains(&product.specifications.len()));
            assert!(
                product
                    .specifications
                    .iter()
                    .all(|(key, value)| !key.is_empty() && !value.is_empty())
            );

            assert!((1..=4).contains(&product.images.len()));
            for (i, image) in product.images.iter().enumerate() {
                assert_eq!(
                    *image,
                    format!("https://cdn.example.com/products/{}/{}.jpg", product.slug, i + 1)
                );
            }
        }
    }

    #[test]
    fn helpers_behave() {
        assert_eq!(
            slugify("Hollis & Finch Storm Rain Jacket"),
            "hollis-finch-storm-rain-jacket"
        );
        assert_eq!(slugify("IronHearth Chef's Wok"), "ironhearth-chefs-wok");
        assert_eq!(sentence_case("Over-Ear Headphones"), "Over-ear headphones");
        assert_eq!(sentence_case("LED Strip"), "LED strip");
        assert_eq!(sentence_case("USB-C Hub"), "USB-C hub");
        assert_eq!(code("Black/White", 3), "BLA");
    }
}
