//! The catalog spreadsheet: the CSV that products are imported from and
//! exported to.
//!
//! One row per product, or, for a product with variants, one row per variant
//! with the product's `sku` on each (the product's own columns are read from
//! the first of those rows; the others leave them empty or repeat them). Row
//! numbers count the header as row 1, as a spreadsheet shows them.
//!
//! A cell of a column the file has sets the field (empty clears what can be
//! cleared); a column the file leaves out leaves the field as it is, so
//! `sku,price` alone reprices a catalog.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::domain::{Money, ProductStatus, Sku, Slug};
use crate::store::products::ProductRecord;

use super::CategoryTree;

/// Options a variant can have in a file (`option1Name` … `option5Value`).
pub const MAX_OPTIONS: usize = 5;
/// The most data rows a file may have.
pub const MAX_ROWS: usize = 100_000;
const MAX_STOCK: i64 = 1_000_000;
/// Separates the entries of the `tags` and `images` cells.
pub const LIST_SEPARATOR: char = '|';

/// A column of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Sku,
    Name,
    Slug,
    Description,
    Price,
    ComparePrice,
    Currency,
    Category,
    Brand,
    Status,
    Stock,
    IsFeatured,
    LowStockThreshold,
    Tags,
    Images,
    VariantSku,
    VariantPrice,
    VariantStock,
    /// 1-based.
    OptionName(usize),
    OptionValue(usize),
}

/// The product's own columns, in the order an export writes them.
const PRODUCT_COLUMNS: [Column; 15] = [
    Column::Sku,
    Column::Name,
    Column::Slug,
    Column::Description,
    Column::Price,
    Column::ComparePrice,
    Column::Currency,
    Column::Category,
    Column::Brand,
    Column::Status,
    Column::Stock,
    Column::IsFeatured,
    Column::LowStockThreshold,
    Column::Tags,
    Column::Images,
];

const VARIANT_COLUMNS: [Column; 3] = [Column::VariantSku, Column::VariantPrice, Column::VariantStock];

impl Column {
    pub fn name(self) -> String {
        match self {
            Self::Sku => "sku".into(),
            Self::Name => "name".into(),
            Self::Slug => "slug".into(),
            Self::Description => "description".into(),
            Self::Price => "price".into(),
            Self::ComparePrice => "comparePrice".into(),
            Self::Currency => "currency".into(),
            Self::Category => "category".into(),
            Self::Brand => "brand".into(),
            Self::Status => "status".into(),
            Self::Stock => "stock".into(),
            Self::IsFeatured => "isFeatured".into(),
            Self::LowStockThreshold => "lowStockThreshold".into(),
            Self::Tags => "tags".into(),
            Self::Images => "images".into(),
            Self::VariantSku => "variantSku".into(),
            Self::VariantPrice => "variantPrice".into(),
            Self::VariantStock => "variantStock".into(),
            Self::OptionName(n) => format!("option{n}Name"),
            Self::OptionValue(n) => format!("option{n}Value"),
        }
    }

    /// A header cell, compared without case or surrounding spaces.
    fn parse(header: &str) -> Option<Self> {
        let wanted = header.trim().to_ascii_lowercase();
        let fixed = PRODUCT_COLUMNS.iter().chain(&VARIANT_COLUMNS).copied();
        let options = (1..=MAX_OPTIONS).flat_map(|n| [Self::OptionName(n), Self::OptionValue(n)]);
        fixed
            .chain(options)
            .find(|column| column.name().to_ascii_lowercase() == wanted)
    }

    fn is_variant(self) -> bool {
        matches!(
            self,
            Self::VariantSku | Self::VariantPrice | Self::VariantStock | Self::OptionName(_) | Self::OptionValue(_)
        )
    }
}

/// What is wrong with a row (or, at row 1, with the header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowIssue {
    pub row: u64,
    /// The column at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub reason: String,
}

impl RowIssue {
    pub fn new(row: u64, column: Option<Column>, reason: impl Into<String>) -> Self {
        Self {
            row,
            column: column.map(Column::name),
            reason: reason.into(),
        }
    }
}

/// What a file says about one field: `None` when the file has no such column,
/// `Some(None)` for an empty cell.
pub type Cell<T> = Option<Option<T>>;

/// A variant row.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantLine {
    pub row: u64,
    pub sku: Sku,
    pub options: BTreeMap<String, String>,
    pub price: Option<Money>,
    pub stock: Cell<i64>,
}

/// One product of the file, read and checked cell by cell.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProductLine {
    pub row: u64,
    pub sku: Option<Sku>,
    pub name: Cell<String>,
    pub slug: Cell<Slug>,
    pub description: Cell<String>,
    pub price: Cell<Money>,
    pub compare_price: Cell<Money>,
    pub currency: Cell<String>,
    /// A category slug (or id).
    pub category: Cell<String>,
    pub brand: Cell<String>,
    pub status: Cell<ProductStatus>,
    pub stock: Cell<i64>,
    pub is_featured: Cell<bool>,
    pub low_stock_threshold: Cell<i64>,
    pub tags: Option<Vec<String>>,
    pub images: Option<Vec<String>>,
    /// `None` when the file has no variant columns (variants stay as they are).
    pub variants: Option<Vec<VariantLine>>,
}

impl ProductLine {
    pub fn sku(&self) -> &Sku {
        self.sku.as_ref().expect("a read product line has its sku")
    }
}

/// A product of the file: its rows, and the product or what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub first_row: u64,
    pub rows: u64,
    pub line: Result<ProductLine, Vec<RowIssue>>,
}

/// A whole file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub groups: Vec<Group>,
    pub rows: u64,
}

/// One data row: its number and its cells by column (`None` for a cell that
/// is not text).
struct Row {
    number: u64,
    cells: HashMap<Column, String>,
    issues: Vec<RowIssue>,
}

impl Row {
    fn cell(&self, column: Column) -> Option<&str> {
        self.cells.get(&column).map(String::as_str)
    }

    fn sku(&self) -> &str {
        self.cell(Column::Sku).map(str::trim).unwrap_or("")
    }
}

/// Reads a whole file. The error is a problem of the file itself (not CSV,
/// unknown or repeated columns, no `sku` column, too many rows); problems of
/// rows are in the groups.
pub fn read(bytes: &[u8]) -> Result<Sheet, RowIssue> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| RowIssue::new(1, None, format!("is not a readable CSV header: {e}")))?
        .clone();
    let columns = header_columns(&header)?;
    let mut rows = Vec::new();
    for (index, record) in reader.byte_records().enumerate() {
        let number = index as u64 + 2;
        let record = record.map_err(|e| RowIssue::new(number, None, format!("is not readable CSV: {e}")))?;
        if rows.len() >= MAX_ROWS {
            return Err(RowIssue::new(
                number,
                None,
                format!("the file has more than {MAX_ROWS} rows: split it"),
            ));
        }
        if record.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let mut row = Row {
            number,
            cells: HashMap::new(),
            issues: Vec::new(),
        };
        if record.len() != columns.len() {
            row.issues.push(RowIssue::new(
                number,
                None,
                format!("has {} cells where the header has {}", record.len(), columns.len()),
            ));
        }
        for (column, cell) in columns.iter().zip(record.iter()) {
            match std::str::from_utf8(cell) {
                Ok(text) => {
                    row.cells.insert(*column, text.to_owned());
                }
                Err(_) => row
                    .issues
                    .push(RowIssue::new(number, Some(*column), "is not UTF-8 text")),
            }
        }
        rows.push(row);
    }
    let total = rows.len() as u64;
    Ok(Sheet {
        groups: group(rows, &columns),
        rows: total,
    })
}

fn header_columns(header: &csv::ByteRecord) -> Result<Vec<Column>, RowIssue> {
    let mut columns = Vec::new();
    for cell in header {
        let text = std::str::from_utf8(cell).map_err(|_| RowIssue::new(1, None, "the header is not UTF-8 text"))?;
        let column = Column::parse(text).ok_or_else(|| RowIssue {
            row: 1,
            column: Some(text.trim().to_owned()),
            reason: format!("is not a known column (known: {})", known_columns()),
        })?;
        if columns.contains(&column) {
            return Err(RowIssue::new(1, Some(column), "appears twice in the header"));
        }
        columns.push(column);
    }
    if !columns.contains(&Column::Sku) {
        return Err(RowIssue::new(1, Some(Column::Sku), "the header needs a sku column"));
    }
    if columns.iter().any(|c| c.is_variant()) && !columns.contains(&Column::VariantSku) {
        return Err(RowIssue::new(
            1,
            Some(Column::VariantSku),
            "variant columns need a variantSku column",
        ));
    }
    for n in 1..=MAX_OPTIONS {
        let (name, value) = (Column::OptionName(n), Column::OptionValue(n));
        if columns.contains(&name) != columns.contains(&value) {
            return Err(RowIssue::new(
                1,
                Some(if columns.contains(&name) { value } else { name }),
                format!("option{n}Name and option{n}Value come together"),
            ));
        }
    }
    Ok(columns)
}

fn known_columns() -> String {
    let mut names: Vec<String> = PRODUCT_COLUMNS
        .iter()
        .chain(&VARIANT_COLUMNS)
        .map(|c| c.name())
        .collect();
    names.push(format!("option1Name … option{MAX_OPTIONS}Value"));
    names.join(", ")
}

/// Gathers consecutive rows of one SKU into a product, and refuses a SKU
/// (product or variant) that the file already used.
fn group(rows: Vec<Row>, columns: &[Column]) -> Vec<Group> {
    let mut runs: Vec<Vec<Row>> = Vec::new();
    for row in rows {
        match runs.last_mut() {
            Some(run) if !row.sku().is_empty() && run[0].sku() == row.sku() => run.push(row),
            _ => runs.push(vec![row]),
        }
    }
    // SKU (upper case, as stored) → the row that used it first.
    let mut seen: HashMap<String, u64> = HashMap::new();
    runs.into_iter()
        .map(|run| {
            let first_row = run[0].number;
            let rows = run.len() as u64;
            let mut issues: Vec<RowIssue> = run.iter().flat_map(|row| row.issues.clone()).collect();
            let mut claim = |sku: &str, row: u64, column: Column, issues: &mut Vec<RowIssue>| {
                let key = sku.trim().to_uppercase();
                if key.is_empty() {
                    return;
                }
                match seen.get(&key) {
                    Some(earlier) => issues.push(RowIssue::new(
                        row,
                        Some(column),
                        format!("SKU {key} is also on row {earlier}: a SKU appears once per file"),
                    )),
                    None => {
                        seen.insert(key, row);
                    }
                }
            };
            claim(run[0].sku(), first_row, Column::Sku, &mut issues);
            for row in &run {
                if let Some(variant) = row.cell(Column::VariantSku) {
                    claim(variant, row.number, Column::VariantSku, &mut issues);
                }
            }
            let line = product_line(&run, columns, &mut issues);
            Group {
                first_row,
                rows,
                line: if issues.is_empty() { Ok(line) } else { Err(issues) },
            }
        })
        .collect()
}

/// Reads the cells of one product's rows; what is wrong goes to `issues`.
fn product_line(run: &[Row], columns: &[Column], issues: &mut Vec<RowIssue>) -> ProductLine {
    let first = &run[0];
    let has = |column: Column| columns.contains(&column);
    let mut line = ProductLine {
        row: first.number,
        ..ProductLine::default()
    };
    if first.sku().is_empty() {
        issues.push(RowIssue::new(first.number, Some(Column::Sku), "is required"));
    } else {
        match Sku::parse(first.sku()) {
            Ok(sku) => line.sku = Some(sku),
            Err(e) => issues.push(RowIssue::new(first.number, Some(Column::Sku), e.to_string())),
        }
    }
    // The product's own columns on the later rows: empty, or the first row's value.
    for row in &run[1..] {
        for column in PRODUCT_COLUMNS.iter().filter(|c| **c != Column::Sku && has(**c)) {
            let (mine, theirs) = (
                row.cell(*column).unwrap_or("").trim(),
                first.cell(*column).unwrap_or("").trim(),
            );
            if !mine.is_empty() && mine != theirs {
                issues.push(RowIssue::new(
                    row.number,
                    Some(*column),
                    format!(
                        "differs from row {} of the same product: leave it empty or repeat it",
                        first.number
                    ),
                ));
            }
        }
    }
    let mut read = |column: Column, parse: &dyn Fn(&str) -> Result<(), String>| {
        if let Some(text) = first.cell(column).map(str::trim).filter(|t| !t.is_empty())
            && let Err(reason) = parse(text)
        {
            issues.push(RowIssue::new(first.number, Some(column), reason));
        }
    };
    // Each field: parsed into a temporary through a closure, then stored.
    let cell = |column: Column| -> Cell<String> {
        has(column).then(|| {
            first
                .cell(column)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        })
    };
    let text_field = |max: usize| move |text: &str| -> Result<(), String> { bounded(text, max).map(|_| ()) };
    read(Column::Name, &text_field(200));
    read(Column::Description, &text_field(1000));
    read(Column::Brand, &text_field(100));
    read(Column::Slug, &|t| Slug::parse(t).map(|_| ()).map_err(|e| e.to_string()));
    read(Column::Price, &|t| money(t).map(|_| ()));
    read(Column::ComparePrice, &|t| money(t).map(|_| ()));
    read(Column::Currency, &|t| currency(t).map(|_| ()));
    read(Column::Status, &|t| {
        ProductStatus::parse(&t.to_uppercase())
            .map(|_| ())
            .map_err(str::to_owned)
    });
    read(Column::Stock, &|t| whole(t).map(|_| ()));
    read(Column::IsFeatured, &|t| boolean(t).map(|_| ()));
    read(Column::LowStockThreshold, &|t| whole(t).map(|_| ()));
    read(Column::Tags, &|t| tags(t).map(|_| ()));
    read(Column::Images, &|t| images(t).map(|_| ()));
    line.name = cell(Column::Name);
    line.description = cell(Column::Description);
    line.brand = cell(Column::Brand);
    line.category = cell(Column::Category);
    line.slug = cell(Column::Slug).map(|c| c.and_then(|t| Slug::parse(&t).ok()));
    line.price = cell(Column::Price).map(|c| c.and_then(|t| money(&t).ok()));
    line.compare_price = cell(Column::ComparePrice).map(|c| c.and_then(|t| money(&t).ok()));
    line.currency = cell(Column::Currency).map(|c| c.and_then(|t| currency(&t).ok()));
    line.status = cell(Column::Status).map(|c| c.and_then(|t| ProductStatus::parse(&t.to_uppercase()).ok()));
    line.stock = cell(Column::Stock).map(|c| c.and_then(|t| whole(&t).ok()));
    line.is_featured = cell(Column::IsFeatured).map(|c| c.and_then(|t| boolean(&t).ok()));
    line.low_stock_threshold = cell(Column::LowStockThreshold).map(|c| c.and_then(|t| whole(&t).ok()));
    line.tags = cell(Column::Tags).map(|c| c.and_then(|t| tags(&t).ok()).unwrap_or_default());
    line.images = cell(Column::Images).map(|c| c.and_then(|t| images(&t).ok()).unwrap_or_default());
    if has(Column::VariantSku) {
        line.variants = Some(variant_lines(run, columns, issues));
    }
    line
}

fn variant_lines(run: &[Row], columns: &[Column], issues: &mut Vec<RowIssue>) -> Vec<VariantLine> {
    let mut variants = Vec::new();
    for row in run {
        let sku_text = row.cell(Column::VariantSku).unwrap_or("").trim();
        let has_variant_cells = columns
            .iter()
            .filter(|c| c.is_variant())
            .any(|c| !row.cell(*c).unwrap_or("").trim().is_empty());
        if sku_text.is_empty() {
            if run.len() > 1 {
                issues.push(RowIssue::new(
                    row.number,
                    Some(Column::VariantSku),
                    "is required: a product on several rows has one variant per row",
                ));
            } else if has_variant_cells {
                issues.push(RowIssue::new(
                    row.number,
                    Some(Column::VariantSku),
                    "is required with the other variant columns",
                ));
            }
            continue;
        }
        let sku = match Sku::parse(sku_text) {
            Ok(sku) => sku,
            Err(e) => {
                issues.push(RowIssue::new(row.number, Some(Column::VariantSku), e.to_string()));
                continue;
            }
        };
        let mut options = BTreeMap::new();
        for n in 1..=MAX_OPTIONS {
            let name = row.cell(Column::OptionName(n)).unwrap_or("").trim();
            let value = row.cell(Column::OptionValue(n)).unwrap_or("").trim();
            match (name.is_empty(), value.is_empty()) {
                (true, true) => {}
                (false, false) => {
                    if let Err(reason) = bounded(name, 30) {
                        issues.push(RowIssue::new(row.number, Some(Column::OptionName(n)), reason));
                    } else if let Err(reason) = bounded(value, 50) {
                        issues.push(RowIssue::new(row.number, Some(Column::OptionValue(n)), reason));
                    } else if options.insert(name.to_owned(), value.to_owned()).is_some() {
                        issues.push(RowIssue::new(
                            row.number,
                            Some(Column::OptionName(n)),
                            format!("names option {name} twice"),
                        ));
                    }
                }
                (true, false) => issues.push(RowIssue::new(
                    row.number,
                    Some(Column::OptionName(n)),
                    "is required with its value",
                )),
                (false, true) => issues.push(RowIssue::new(
                    row.number,
                    Some(Column::OptionValue(n)),
                    "is required with its name",
                )),
            }
        }
        if options.is_empty() {
            issues.push(RowIssue::new(
                row.number,
                Some(Column::OptionName(1)),
                "a variant needs at least one option, such as Size = M",
            ));
        }
        let price = match row.cell(Column::VariantPrice).map(str::trim).filter(|t| !t.is_empty()) {
            Some(text) => money(text)
                .map_err(|reason| issues.push(RowIssue::new(row.number, Some(Column::VariantPrice), reason)))
                .ok(),
            None => None,
        };
        let stock = columns.contains(&Column::VariantStock).then(|| {
            row.cell(Column::VariantStock)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .and_then(|text| {
                    whole(text)
                        .map_err(|reason| issues.push(RowIssue::new(row.number, Some(Column::VariantStock), reason)))
                        .ok()
                })
        });
        variants.push(VariantLine {
            row: row.number,
            sku,
            options,
            price,
            stock,
        });
    }
    variants
}

fn bounded(text: &str, max: usize) -> Result<String, String> {
    let length = text.chars().count();
    if length == 0 || length > max || text.chars().any(char::is_control) {
        Err(format!("must be 1 to {max} characters"))
    } else {
        Ok(text.to_owned())
    }
}

fn money(text: &str) -> Result<Money, String> {
    let money = Money::parse(text).map_err(|e| match e {
        crate::domain::money::InvalidMoney::Negative => "must be greater than 0".to_owned(),
        other => other.to_string(),
    })?;
    if money.cents() <= 0 {
        Err("must be greater than 0".to_owned())
    } else {
        Ok(money)
    }
}

fn currency(text: &str) -> Result<String, String> {
    let code = text.to_uppercase();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("must be a 3-letter ISO currency code such as USD".to_owned())
    }
}

fn whole(text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .ok()
        .filter(|n| (0..=MAX_STOCK).contains(n))
        .ok_or_else(|| format!("must be a whole number from 0 to {MAX_STOCK}"))
}

fn boolean(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err("must be true or false".to_owned()),
    }
}

fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split(LIST_SEPARATOR).map(str::trim).filter(|t| !t.is_empty())
}

fn tags(text: &str) -> Result<Vec<String>, String> {
    let tags: Vec<String> = split(text).map(str::to_lowercase).collect();
    if tags.len() > super::products::MAX_TAGS {
        return Err(format!("must have at most {} tags", super::products::MAX_TAGS));
    }
    if let Some(bad) = tags.iter().find(|t| t.chars().count() > 30) {
        return Err(format!("tag {bad} is longer than 30 characters"));
    }
    Ok(tags)
}

fn images(text: &str) -> Result<Vec<String>, String> {
    let images: Vec<&str> = split(text).collect();
    if images.len() > super::products::MAX_IMAGES {
        return Err(format!("must have at most {} images", super::products::MAX_IMAGES));
    }
    images
        .into_iter()
        .map(|url| super::categories::url(&Value::String(url.to_owned())).map_err(|e| format!("{url} {e}")))
        .collect()
}

/// Writes products as a file [`read`] takes back: the product's columns, the
/// variant columns and as many option columns as the products need.
pub fn write(products: &[ProductRecord], tree: &CategoryTree) -> Result<Vec<u8>, csv::Error> {
    let options = products
        .iter()
        .flat_map(|p| p.variants.values())
        .map(|v| v.options.len())
        .max()
        .unwrap_or(1)
        .clamp(1, MAX_OPTIONS);
    let mut columns: Vec<Column> = PRODUCT_COLUMNS.iter().chain(&VARIANT_COLUMNS).copied().collect();
    columns.extend((1..=options).flat_map(|n| [Column::OptionName(n), Column::OptionValue(n)]));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(columns.iter().map(|c| c.name()))?;
    for product in products {
        let own = product_cells(product, tree);
        if product.variants.is_empty() {
            writer.write_record(columns.iter().map(|c| own.get(c).cloned().unwrap_or_default()))?;
            continue;
        }
        let mut variants: Vec<_> = product.variants.values().collect();
        variants.sort_by(|a, b| a.sku.as_str().cmp(b.sku.as_str()));
        for variant in variants {
            let mut cells = own.clone();
            cells.insert(Column::VariantSku, variant.sku.to_string());
            if let Some(price) = variant.price {
                cells.insert(Column::VariantPrice, price.to_string());
            }
            cells.insert(Column::VariantStock, variant.stock.to_string());
            for (index, (name, value)) in variant.options.iter().enumerate() {
                cells.insert(Column::OptionName(index + 1), name.clone());
                cells.insert(Column::OptionValue(index + 1), value.clone());
            }
            writer.write_record(columns.iter().map(|c| cells.get(c).cloned().unwrap_or_default()))?;
        }
    }
    writer.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn product_cells(product: &ProductRecord, tree: &CategoryTree) -> HashMap<Column, String> {
    let category = tree
        .get(product.category_id)
        .map_or_else(|| product.category_id.to_string(), |c| c.slug.to_string());
    let join = |items: &[String]| items.join(&LIST_SEPARATOR.to_string());
    let mut cells = HashMap::from([
        (Column::Sku, product.sku.to_string()),
        (Column::Name, product.name.clone()),
        (Column::Slug, product.slug.to_string()),
        (Column::Description, product.description.clone()),
        (Column::Price, product.price.to_string()),
        (Column::Currency, product.currency.clone()),
        (Column::Category, category),
        (Column::Brand, product.brand.clone()),
        (Column::Status, product.status.as_str().to_owned()),
        (Column::IsFeatured, product.is_featured.to_string()),
        (Column::LowStockThreshold, product.low_stock_threshold.to_string()),
        (Column::Tags, join(&product.tags)),
        (Column::Images, join(&product.images)),
    ]);
    if let Some(compare) = product.compare_price {
        cells.insert(Column::ComparePrice, compare.to_string());
    }
    if product.variants.is_empty() {
        cells.insert(Column::Stock, product.stock.to_string());
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(text: &str) -> Sheet {
        read(text.as_bytes()).expect("a readable file")
    }

    fn issues(group: &Group) -> Vec<(u64, Option<String>)> {
        group
            .line
            .as_ref()
            .err()
            .map(|issues| issues.iter().map(|i| (i.row, i.column.clone())).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_product_per_row_and_a_variant_per_row() {
        let file = "sku,name,price,stock,variantSku,option1Name,option1Value,variantStock\n\
                    MUG-1,Mug,12.50,7,,,,\n\
                    TEE-1,Tee,20,,TEE-1-S,Size,S,3\n\
                    TEE-1,,,,TEE-1-M,Size,M,4\n";
        let sheet = sheet(file);
        assert_eq!(sheet.rows, 3);
        assert_eq!(sheet.groups.len(), 2);
        let mug = sheet.groups[0].line.as_ref().unwrap();
        assert_eq!(mug.sku().as_str(), "MUG-1");
        assert_eq!(mug.price, Some(Some(Money::from_cents(1250))));
        assert_eq!(mug.stock, Some(Some(7)));
        assert_eq!(mug.variants, Some(Vec::new()));
        let tee = sheet.groups[1].line.as_ref().unwrap();
        assert_eq!(sheet.groups[1].rows, 2);
        let variants = tee.variants.as_ref().unwrap();
        assert_eq!(variants.len(), 2);
        assert_eq!(variants[1].options["Size"], "M");
        assert_eq!(variants[1].stock, Some(Some(4)));
        assert_eq!(tee.description, None, "no description column: left as it is");
    }

    #[test]
    fn bad_cells_are_named_by_row_and_column() {
        let file = "sku,name,price,comparePrice,status,stock,images\n\
                    A-1,Ok,-5,abc,SOLD,1.5,ftp://x\n";
        let sheet = sheet(file);
        let found = issues(&sheet.groups[0]);
        for column in ["price", "comparePrice", "status", "stock", "images"] {
            assert!(
                found.contains(&(2, Some(column.to_owned()))),
                "{column} is named: {found:?}"
            );
        }
        let reasons = sheet.groups[0].line.as_ref().unwrap_err();
        let price = reasons.iter().find(|i| i.column.as_deref() == Some("price")).unwrap();
        assert_eq!(price.reason, "must be greater than 0");
    }

    #[test]
    fn a_sku_twice_in_a_file_fails_the_later_product() {
        let file = "sku,name\nA-1,One\nB-1,Two\nA-1,Again\n";
        let sheet = sheet(file);
        assert!(sheet.groups[0].line.is_ok());
        assert!(sheet.groups[1].line.is_ok());
        assert_eq!(issues(&sheet.groups[2]), vec![(4, Some("sku".to_owned()))]);
        let variant_clash = "sku,variantSku,option1Name,option1Value\nA-1,V-1,Size,S\nB-1,V-1,Size,M\n";
        let sheet = self::sheet(variant_clash);
        assert_eq!(issues(&sheet.groups[1]), vec![(3, Some("variantSku".to_owned()))]);
    }

    #[test]
    fn a_short_row_and_a_differing_repeat_are_row_issues() {
        let file = "sku,name,variantSku,option1Name,option1Value\n\
                    T-1,Tee,T-1-S,Size,S\n\
                    T-1,Other,T-1-M,Size,M\n\
                    U-1,Short\n";
        let sheet = sheet(file);
        assert_eq!(issues(&sheet.groups[0]), vec![(3, Some("name".to_owned()))]);
        assert_eq!(issues(&sheet.groups[1])[0], (4, None));
    }

    #[test]
    fn the_header_is_checked_first() {
        assert_eq!(read(b"name,price\nMug,1\n").unwrap_err().column.as_deref(), Some("sku"));
        let unknown = read(b"sku,colour\nA,red\n").unwrap_err();
        assert_eq!(unknown.column.as_deref(), Some("colour"));
        assert_eq!(read(b"sku,SKU\n").unwrap_err().reason, "appears twice in the header");
        assert_eq!(
            read(b"sku,option1Name\n").unwrap_err().column.as_deref(),
            Some("variantSku")
        );
        assert!(read(b"\xef\xbb\xbfSku , Name\nA-1,x\n").is_ok(), "BOM, case and spaces");
    }

    #[test]
    fn not_utf8_is_named() {
        let sheet = read(b"sku,name\nA-1,caf\xe9\n").unwrap();
        assert_eq!(issues(&sheet.groups[0]), vec![(2, Some("name".to_owned()))]);
    }

    #[test]
    fn blank_lines_are_skipped_and_quotes_keep_commas() {
        let sheet = sheet("sku,name,tags\n\n\"A-1\",\"Mug, large\",\"Kitchen | Gift\"\n,,\n");
        assert_eq!(sheet.rows, 1);
        let line = sheet.groups[0].line.as_ref().unwrap();
        assert_eq!(line.name, Some(Some("Mug, large".to_owned())));
        assert_eq!(line.tags, Some(vec!["kitchen".to_owned(), "gift".to_owned()]));
    }
}
