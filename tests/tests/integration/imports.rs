//! Catalog import and export: files applied in the request and through the
//! importer's queue, refused rows reported by row and column, re-runs that
//! change nothing, racing imports, and export → import round trips.

use serde_json::{Value, json};
use shop::imports::{ImportMessage, Imports};
use shop_local::HttpCall;
use shop_tests::{Session, TestApp, TestResponse, email};

const IMPORT: &str = "/api/v1/admin/products/import";

async fn import(app: &TestApp, admin: &Session, csv: &str) -> TestResponse {
    app.call(
        HttpCall::new("POST", &format!("{IMPORT}?filename=catalog.csv"))
            .header("authorization", &admin.bearer())
            .header("content-type", "text/csv")
            .body(csv.as_bytes().to_vec()),
    )
    .await
}

/// Imports `csv` within the request; answers the finished import and its first errors.
async fn imported(app: &TestApp, admin: &Session, csv: &str) -> Value {
    let response = import(app, admin, csv).await;
    response.expect_status(200);
    assert_eq!(response.data()["import"]["status"], "COMPLETED");
    response.data().clone()
}

fn counts(report: &Value) -> (u64, u64, u64, u64) {
    let import = &report["import"];
    let n = |name: &str| import[name].as_u64().unwrap();
    (n("created"), n("updated"), n("unchanged"), n("failed"))
}

async fn export(app: &TestApp, admin: &Session, query: &str) -> TestResponse {
    let response = app
        .get_as(&format!("/api/v1/admin/products/export{query}"), admin)
        .await;
    response.expect_status(200);
    response
}

/// A product as an admin sees it (any status).
async fn product(app: &TestApp, admin: &Session, slug: &str) -> Value {
    let response = app.get_as(&format!("/api/v1/products/{slug}"), admin).await;
    response.expect_status(200);
    response.data().clone()
}

/// Imports `csv`, in the request or through the queue; answers the finished report.
async fn imported_any(app: &TestApp, admin: &Session, csv: &str) -> Value {
    let response = import(app, admin, csv).await;
    if response.status == 200 {
        return response.data().clone();
    }
    response.expect_status(202);
    let id = response.data()["import"]["importId"].as_str().unwrap().to_owned();
    app.run_consumer("ImportsQueue", "catalog-importer").await;
    let done = app.get_as(&format!("/api/v1/admin/imports/{id}"), admin).await;
    assert_eq!(done.data()["import"]["status"], "COMPLETED", "{}", done.body);
    done.data().clone()
}

async fn owner_of(app: &TestApp, sku: &str) -> Option<shop::domain::ProductId> {
    let store = &app.gateway.functions.catalog_api().catalog().store;
    store.sku_owner(&shop::domain::Sku::parse(sku).unwrap()).await.unwrap()
}

async fn shop_with_category(app: &TestApp) -> Session {
    let admin = app.admin(&email("admin")).await;
    app.category(&admin, "Kitchen", None).await;
    admin
}

const TWO_PRODUCTS: &str = "\
sku,name,description,price,comparePrice,category,brand,status,stock,tags,images,variantSku,variantPrice,variantStock,option1Name,option1Value
MUG-1,Stoneware mug,A heavy mug,12.50,15.00,kitchen,Potter,ACTIVE,7,kitchen|gift,https://img.example.com/mug.jpg,,,,,
APR-1,Linen apron,An apron,30.00,,kitchen,Weaver,ACTIVE,,,,APR-1-S,,3,Size,S
APR-1,,,,,,,,,,,APR-1-L,32.00,4,Size,L
";

#[tokio::test]
async fn a_small_file_is_applied_at_once_and_a_rerun_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = shop_with_category(&app).await;

    let first = imported(&app, &admin, TWO_PRODUCTS).await;
    assert_eq!(counts(&first), (2, 0, 0, 0), "{first}");
    assert_eq!(first["import"]["rowsTotal"], 3);
    assert_eq!(first["import"]["rowsDone"], 3);
    assert_eq!(first["import"]["filename"], "catalog.csv");
    let mug = product(&app, &admin, "stoneware-mug").await;
    assert_eq!(mug["price"], json!(12.50));
    assert_eq!(mug["comparePrice"], json!(15.00));
    assert_eq!(mug["inventory"], 7);
    let apron = product(&app, &admin, "linen-apron").await;
    let variants = apron["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(apron["inventory"], 7, "3 S + 4 L");

    let again = imported(&app, &admin, TWO_PRODUCTS).await;
    assert_eq!(counts(&again), (0, 0, 2, 0), "a re-run changes nothing: {again}");
    let id = mug["productId"].as_str().unwrap();
    let history = app
        .get_as(&format!("/api/v1/products/{id}/stock/history"), &admin)
        .await;
    assert_eq!(
        history.data()["changes"].as_array().unwrap().len(),
        1,
        "only the opening stock"
    );

    // A file of two columns reprices one product and sets another's stock.
    let edit = imported(&app, &admin, "sku,price,stock\nMUG-1,13.00,9\n").await;
    assert_eq!(counts(&edit), (0, 1, 0, 0));
    let mug = product(&app, &admin, "stoneware-mug").await;
    assert_eq!(mug["price"], json!(13.00));
    assert_eq!(mug["inventory"], 9);
    assert_eq!(mug["name"], "Stoneware mug", "columns the file leaves out stay");
}

#[tokio::test]
async fn bad_rows_are_reported_by_row_and_column_and_write_nothing() {
    let app = TestApp::spawn().await;
    let admin = shop_with_category(&app).await;
    let csv = "\
sku,name,description,price,category,brand
OK-1,Good,Fine,5.00,kitchen,Acme
CAT-1,Lost,Nowhere,5.00,garden,Acme
NEG-1,Cheap,Negative,-3.00,kitchen,Acme
OK-1,Twice,Again,6.00,kitchen,Acme
SHORT-1,Short
NEW-1,,No name,4.00,kitchen,Acme
";
    let report = imported(&app, &admin, csv).await;
    assert_eq!(counts(&report), (1, 0, 0, 5), "{report}");
    let errors: Vec<(u64, Option<String>)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().map(str::to_owned)))
        .collect();
    for expected in [
        (3, Some("category".to_owned())),
        (4, Some("price".to_owned())),
        (5, Some("sku".to_owned())),
        (6, None),
        (7, Some("name".to_owned())),
    ] {
        assert!(errors.contains(&expected), "{expected:?} in {errors:?}");
    }
    for sku in ["CAT-1", "NEG-1", "SHORT-1", "NEW-1"] {
        assert_eq!(owner_of(&app, sku).await, None, "{sku} was not written");
    }
    assert_eq!(
        product(&app, &admin, "good").await["name"],
        "Good",
        "the first OK-1 row stands"
    );

    // The report pages its errors.
    let id = report["import"]["importId"].as_str().unwrap();
    let page = app
        .get_as(&format!("/api/v1/admin/imports/{id}?limit=2&page=2"), &admin)
        .await;
    page.expect_status(200);
    assert_eq!(page.data()["errors"].as_array().unwrap().len(), 2);
    assert_eq!(page.data()["pagination"]["totalItems"], 5);
}

#[tokio::test]
async fn a_file_that_is_not_a_catalog_is_a_400_naming_what_is_wrong() {
    let app = TestApp::spawn().await;
    let admin = shop_with_category(&app).await;
    let no_sku = import(&app, &admin, "name,price\nMug,3\n").await;
    no_sku.expect_status(400);
    assert_eq!(no_sku.bad_fields(), vec!["sku"]);
    let unknown = import(&app, &admin, "sku,colour\nA-1,red\n").await;
    unknown.expect_status(400);
    assert_eq!(unknown.bad_fields(), vec!["colour"]);
    let empty = import(&app, &admin, "").await;
    empty.expect_status(400);
    assert_eq!(empty.bad_fields(), vec!["body"]);
    let header_only = import(&app, &admin, "sku,name\n").await;
    header_only.expect_status(400);
    let as_json = app.send_as("POST", IMPORT, &admin, json!({"sku": "A-1"})).await;
    as_json.expect_status(400);
    assert_eq!(as_json.bad_fields(), vec!["body"]);

    let customer = app.customer(&email("jane")).await;
    import(&app, &customer, TWO_PRODUCTS).await.expect_status(403);
    app.get_as("/api/v1/admin/products/export", &customer)
        .await
        .expect_status(403);
    app.get_as("/api/v1/admin/imports", &customer).await.expect_status(403);
}

#[tokio::test]
async fn the_demo_catalog_exports_and_imports_back_unchanged() {
    let app = TestApp::spawn().await;
    let admin = app.admin(&email("admin")).await;
    let seeded = app.seed().await;
    let whole = export(&app, &admin, "").await;
    assert_eq!(whole.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(whole.header("x-next-cursor"), None);
    let csv = whole.body.as_str().unwrap().to_owned();
    let products = whole.header("x-product-count").unwrap().parse::<usize>().unwrap();
    assert_eq!(products, seeded.products_created);

    let report = imported_any(&app, &admin, &csv).await;
    assert_eq!(counts(&report), (0, 0, products as u64, 0), "{report}");

    // Pages of two follow each other through the cursor, SKU by SKU.
    let mut seen = 0;
    let mut cursor = String::new();
    loop {
        let page = export(&app, &admin, &format!("?limit=2{cursor}")).await;
        seen += page.header("x-product-count").unwrap().parse::<usize>().unwrap();
        match page.header("x-next-cursor") {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, products);

    // The shipped sample is this export.
    let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../local/demo-catalog.csv")).unwrap();
    assert_eq!(
        sample, csv,
        "local/demo-catalog.csv is the demo catalog's export (`shop-local export`)"
    );
}

/// A file of `n` products, over the size applied within the request.
fn many(n: usize) -> String {
    let mut csv = String::from("sku,name,description,price,category,brand,stock\n");
    for i in 0..n {
        csv.push_str(&format!(
            "BULK-{i:04},Bulk item {i},Item {i},{}.99,kitchen,Bulk,{}\n",
            1 + i % 50,
            i % 7
        ));
    }
    csv
}

#[tokio::test]
async fn a_large_file_goes_through_the_queue() {
    let app = TestApp::spawn().await;
    let admin = shop_with_category(&app).await;
    let queued = import(&app, &admin, &many(130)).await;
    queued.expect_status(202);
    assert_eq!(queued.data()["import"]["status"], "QUEUED");
    let id = queued.data()["import"]["importId"].as_str().unwrap().to_owned();

    app.run_consumer("ImportsQueue", "catalog-importer").await;
    let done = app.get_as(&format!("/api/v1/admin/imports/{id}"), &admin).await;
    done.expect_status(200);
    assert_eq!(done.data()["import"]["status"], "COMPLETED");
    assert_eq!(counts(done.data()), (130, 0, 0, 0));
    assert!(owner_of(&app, "BULK-0129").await.is_some());

    let listed = app.get_as("/api/v1/admin/imports?limit=5", &admin).await;
    listed.expect_status(200);
    assert_eq!(listed.data()["imports"][0]["importId"], id.as_str());
}

/// The importer of this stack, with a run budget of zero: every run applies
/// one chunk, saves its checkpoint and queues a continuation.
fn impatient_importer(app: &TestApp) -> Imports {
    let function = app.stack.function("catalog-importer").unwrap();
    let config = app.stack.config(function).unwrap();
    let mut imports = Imports::from_config(&config, &app.clients);
    imports.run_budget = std::time::Duration::ZERO;
    imports
}

#[tokio::test]
async fn an_import_resumes_from_its_checkpoint_and_duplicate_messages_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = shop_with_category(&app).await;
    let queued = import(&app, &admin, &many(120)).await;
    queued.expect_status(202);
    let id = queued.data()["import"]["importId"].as_str().unwrap().to_owned();
    app.drain_queue("ImportsQueue").await;
    let message = ImportMessage {
        import_id: shop::domain::ImportId::parse(&id).unwrap(),
    };
    let importer = impatient_importer(&app);
    let mut runs = 0;
    loop {
        runs += 1;
        // Each message delivered twice at once: one run holds the lease, the other stands back.
        let (a, b) = tokio::join!(importer.run(&message), importer.run(&message));
        assert!(a.is_ok() || b.is_ok(), "one of two racing runs goes ahead");
        let report = app.get_as(&format!("/api/v1/admin/imports/{id}"), &admin).await;
        let import = &report.data()["import"];
        let (created, updated, unchanged, failed) = counts(report.data());
        assert_eq!(
            created + updated + unchanged + failed,
            import["rowsDone"].as_u64().unwrap()
        );
        if import["status"] == "COMPLETED" {
            assert_eq!((created, updated, unchanged, failed), (120, 0, 0, 0));
            break;
        }
        assert!(runs < 20, "the import does not finish: {import}");
    }
    assert!(runs >= 5, "120 products in chunks of 25 take five runs, took {runs}");
    // A late duplicate of a finished import changes nothing.
    importer.run(&message).await.unwrap();
    let report = app.get_as(&format!("/api/v1/admin/imports/{id}"), &admin).await;
    assert_eq!(counts(report.data()), (120, 0, 0, 0));
}

#[tokio::test]
async fn racing_imports_of_one_file_create_each_product_once() {
    let app = TestApp::spawn().await;
    let admin = shop_with_category(&app).await;
    for round in 0..3 {
        let csv = many(12)
            .replace("BULK-", &format!("R{round}-"))
            .replace("Bulk item", &format!("Round {round} item"));
        let (a, b) = tokio::join!(import(&app, &admin, &csv), import(&app, &admin, &csv));
        let (a, b) = (a.data().clone(), b.data().clone());
        let (created_a, _, unchanged_a, failed_a) = counts(&a);
        let (created_b, _, unchanged_b, failed_b) = counts(&b);
        assert_eq!((failed_a, failed_b), (0, 0), "{a} {b}");
        assert_eq!(created_a + created_b, 12, "each product created once: {a} {b}");
        assert_eq!(created_a + unchanged_a, 12);
        assert_eq!(created_b + unchanged_b, 12);
    }
}

/// PUTs `body` at a presigned URL, as a browser or curl would.
async fn put_at(url: &str, body: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("the emulator's URL is plain HTTP");
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "PUT /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_file_uploaded_at_its_presigned_url_is_imported_once_started() {
    let app = TestApp::spawn().await;
    let admin = shop_with_category(&app).await;
    let ticket = app
        .send_as(
            "POST",
            "/api/v1/admin/imports",
            &admin,
            json!({"filename": "spring.csv"}),
        )
        .await;
    ticket.expect_status(201);
    assert_eq!(ticket.data()["import"]["status"], "AWAITING_UPLOAD");
    let id = ticket.data()["import"]["importId"].as_str().unwrap().to_owned();
    let url = ticket.data()["uploadUrl"].as_str().unwrap().to_owned();
    assert!(url.contains("X-Amz-Signature="), "a presigned URL: {url}");

    let start = format!("/api/v1/admin/imports/{id}/start");
    let early = app.send_as("POST", &start, &admin, json!({})).await;
    early.expect_status(400);
    assert_eq!(early.bad_fields(), vec!["file"]);

    assert_eq!(put_at(&url, TWO_PRODUCTS).await, 200);
    let started = app.send_as("POST", &start, &admin, json!({})).await;
    started.expect_status(202);
    assert_eq!(started.data()["status"], "QUEUED");
    // Started twice: still one job.
    app.send_as("POST", &start, &admin, json!({})).await.expect_status(202);
    app.run_consumer("ImportsQueue", "catalog-importer").await;
    let done = app.get_as(&format!("/api/v1/admin/imports/{id}"), &admin).await;
    assert_eq!(done.data()["import"]["status"], "COMPLETED");
    assert_eq!(counts(done.data()), (2, 0, 0, 0));
    app.get_as("/api/v1/admin/imports/imp_01JAAAAAAAAAAAAAAAAAAAAAAA", &admin)
        .await
        .expect_status(404);
}
