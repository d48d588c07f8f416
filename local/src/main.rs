use std::sync::Arc;

use shop::aws::AwsClients;
use shop::domain::{Email, Password, PersonName};
use shop_local::provision::{BoxError, endpoints_from_env, local_parameters};
use shop_local::{Functions, Gateway, Stack, Template};

const USAGE: &str = "\
usage: shop-local <command> [options]

commands:
  serve          provision the local emulators and serve the API on 127.0.0.1:3000
                 (--port N, --prefix NAME)
  provision      create the table, queues and secrets, then exit (--prefix NAME)
  job NAME       run one scheduled function now and print its result (e.g. order-sweeper)
  seed           load the demo catalog and the demo accounts (idempotent; --prefix NAME)
  import FILE    import a catalog CSV into the dev stack (created or updated by SKU;
                 prints the report; --prefix NAME)
  export         the whole catalog as CSV on stdout (--out FILE to write a file;
                 local/demo-catalog.csv is the demo catalog's)
  env FUNCTION   print the function's resolved environment as `export` lines
                 (for `cargo lambda watch`; --prefix NAME)
  logs           the functions' log, readable (--order ID or --request ID for one
                 order's or one request's lines; --file PATH, default the log
                 `make dev` writes: $STACK_DIR/logs/functions.jsonl)
  metrics        the metrics in that log summed per name, each line checked against
                 the Embedded Metric Format (--file PATH; exits 1 on an invalid line)
  check-logs     look for email addresses, tokens, secrets, passwords or card
                 numbers in that log (--file PATH; exits 1 on any)
  create-admin   create an admin account, or promote an existing one
                 --email E --password P [--first-name F] [--last-name L]
                 [--table NAME]  (a deployed table: uses your AWS credentials when
                                  no DYNAMODB_ENDPOINT is set)

The emulator endpoints come from the environment written by scripts/stack.sh
(DYNAMODB_ENDPOINT, SQS_ENDPOINT, SECRETSMANAGER_ENDPOINT, ...).";

struct Args(Vec<String>);

impl Args {
    fn value(&self, flag: &str) -> Option<String> {
        self.0
            .iter()
            .position(|arg| arg == flag)
            .and_then(|i| self.0.get(i + 1))
            .cloned()
    }
}

#[tokio::main]
async fn main() {
    shop::logging::init();
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() || argv.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return;
    }
    let command = argv.remove(0);
    let args = Args(argv);
    let result = match command.as_str() {
        "serve" => serve(&args).await,
        "provision" => provision(&args)
            .await
            .map(|stack| println!("provisioned table {}", stack.table_name)),
        "create-admin" => create_admin(&args).await,
        "env" => print_env(&args).await,
        "seed" => seed(&args).await,
        "import" => import(&args).await,
        "export" => export(&args).await,
        "job" => job(&args).await,
        "logs" => logs(&args),
        "metrics" => metrics(&args),
        "check-logs" => check_logs(&args),
        other => Err(format!("unknown command {other:?}\n\n{USAGE}").into()),
    };
    if let Err(err) = result {
        eprintln!("shop-local: {err}");
        std::process::exit(1);
    }
}

async fn provision(args: &Args) -> Result<Stack, BoxError> {
    let template = Template::load(&Template::default_path())?;
    let endpoints = endpoints_from_env();
    if endpoints.dynamodb.is_none() || endpoints.sqs.is_none() || endpoints.secrets_manager.is_none() {
        return Err("DYNAMODB_ENDPOINT, SQS_ENDPOINT and SECRETSMANAGER_ENDPOINT must point at the local emulators (run `make dev`)".into());
    }
    let clients = AwsClients::new(&endpoints).await;
    let prefix = args.value("--prefix").unwrap_or_else(|| "shop-local".to_owned());
    let parameters = local_parameters(&template);
    Stack::provision(template, &clients, &prefix, parameters, endpoints).await
}

async fn serve(args: &Args) -> Result<(), BoxError> {
    let stack = provision(args).await?;
    let clients = AwsClients::new(&stack.endpoints).await;
    let gateway = Arc::new(Gateway::new(&stack, &clients)?);
    let port: u16 = args.value("--port").map(|p| p.parse()).transpose()?.unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "API on http://127.0.0.1:{port} ({} routes, table {})",
        gateway.router.routes().count(),
        stack.table_name
    );
    for target in gateway.router.routes() {
        println!(
            "  {:<7} {:<45} -> {}",
            target.route.method, target.route.path, target.function
        );
    }
    if let Some(stripe) = &stack.endpoints.stripe {
        let url = format!("http://127.0.0.1:{port}/api/v1/payments/webhook");
        let secret = stack.parameters.get("StripeWebhookSecret").cloned().unwrap_or_default();
        match shop_local::stripe::register_webhook(stripe, "shop-local", &url, &secret).await {
            Ok(()) => println!("Stripe webhooks -> {url}"),
            Err(err) => eprintln!("shop-local: Stripe webhooks not registered: {err}"),
        }
    }
    let (stop, shutdown) = shop_local::workers::Shutdown::new();
    let workers = shop_local::workers::start(gateway.clone(), &stack, &clients, shutdown.clone()).await?;
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    shop_local::server::serve(gateway, listener, ctrl_c).await?;
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    Ok(())
}

async fn job(args: &Args) -> Result<(), BoxError> {
    let binary = args
        .0
        .first()
        .filter(|a| !a.starts_with("--"))
        .ok_or_else(|| format!("job needs a function name\n\n{USAGE}"))?;
    let stack = provision(args).await?;
    let function = stack
        .function(binary)
        .ok_or_else(|| format!("template.yaml has no function {binary}"))?;
    let rule = function
        .schedules
        .first()
        .map_or_else(|| binary.clone(), |s| s.name.clone());
    let clients = AwsClients::new(&stack.endpoints).await;
    let functions = Functions::new(&stack, &clients)?;
    let event = shop_local::schedules::scheduled_event(&rule, time::OffsetDateTime::now_utc());
    let result = functions.call_job(binary, event).await?;
    println!("{result}");
    Ok(())
}

async fn seed(args: &Args) -> Result<(), BoxError> {
    let stack = provision(args).await?;
    let clients = AwsClients::new(&stack.endpoints).await;
    let functions = Functions::new(&stack, &clients)?;
    let started = std::time::Instant::now();
    let report = shop_local::seed::seed(functions.catalog_api().catalog()).await?;
    println!(
        "demo catalog: {} categories and {} products created, {} products already present ({:.1}s)",
        report.categories_created,
        report.products_created,
        report.products_present,
        started.elapsed().as_secs_f64()
    );
    if report.vocabulary_words > 0 {
        println!("search vocabulary: {} words", report.vocabulary_words);
    }
    println!(
        "demo admin:    {} / {}",
        shop_local::seed::ADMIN_EMAIL,
        shop_local::seed::ADMIN_PASSWORD
    );
    println!(
        "demo customer: {} / {}",
        shop_local::seed::CUSTOMER_EMAIL,
        shop_local::seed::CUSTOMER_PASSWORD
    );
    Ok(())
}

/// The admin-api's import service on the dev stack, and the local operator as its caller.
async fn imports(args: &Args) -> Result<(shop::imports::Imports, shop::auth::Caller), BoxError> {
    let stack = provision(args).await?;
    let clients = AwsClients::new(&stack.endpoints).await;
    let function = stack.function("admin-api").ok_or("template.yaml has no admin-api")?;
    let imports = shop::imports::Imports::from_config(&stack.config(function)?, &clients);
    // Stock changes an import makes are recorded as this operator's.
    let caller = shop::auth::Caller {
        user_id: shop::domain::UserId::generate(),
        email: Email::parse("operator@shop.local")?,
        role: shop::domain::Role::Admin,
    };
    Ok((imports, caller))
}

async fn import(args: &Args) -> Result<(), BoxError> {
    let path = args
        .0
        .first()
        .filter(|a| !a.starts_with("--"))
        .ok_or_else(|| format!("import needs a CSV file\n\n{USAGE}"))?;
    let body = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let (imports, caller) = imports(args).await?;
    let filename = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let (mut report, finished) = imports
        .import_file(&caller, filename, &body)
        .await
        .map_err(|e| format!("{}: {}", e.message, e.details.unwrap_or_default()))?;
    if !finished {
        // A large file: apply it here (the dev server's importer may share the
        // work; the import's lease keeps them from doing the same products).
        let message = shop::imports::ImportMessage {
            import_id: report.import.import_id,
        };
        loop {
            if let Err(err) = imports.run(&message).await {
                eprintln!("shop-local: {}; trying again", err.message);
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            let page = shop::pagination::PageRequest { page: 1, limit: 100 };
            report = imports
                .report(&caller, message.import_id, page)
                .await
                .map_err(|e| e.message)?;
            if matches!(
                report.import.status,
                shop::store::imports::ImportStatus::Completed | shop::store::imports::ImportStatus::Failed
            ) {
                break;
            }
        }
    }
    let import = &report.import;
    println!(
        "import {}: {:?}; {} rows, {} created, {} updated, {} unchanged, {} failed",
        import.import_id,
        import.status,
        import.rows_done,
        import.created,
        import.updated,
        import.unchanged,
        import.failed
    );
    if let Some(failure) = &import.failure {
        println!(
            "  the file: row {} {}: {}",
            failure.row,
            failure.column.as_deref().unwrap_or(""),
            failure.reason
        );
    }
    for issue in &report.errors {
        println!(
            "  row {} {}: {}",
            issue.row,
            issue.column.as_deref().unwrap_or(""),
            issue.reason
        );
    }
    if report.pagination.total_items > report.errors.len() as u64 {
        println!(
            "  … {} rows with errors in all: GET /api/v1/admin/imports/{}",
            report.pagination.total_items, import.import_id
        );
    }
    Ok(())
}

async fn export(args: &Args) -> Result<(), BoxError> {
    let (imports, caller) = imports(args).await?;
    let page = imports
        .export(&caller, shop::imports::EXPORT_MAX_PAGE, None)
        .await
        .map_err(|e| e.message)?;
    if page.next_cursor.is_some() {
        return Err(format!(
            "the catalog has more than {} products: page through GET /api/v1/admin/products/export",
            shop::imports::EXPORT_MAX_PAGE
        )
        .into());
    }
    match args.value("--out") {
        Some(path) => {
            std::fs::write(&path, &page.csv)?;
            eprintln!("{} products written to {path}", page.products);
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&page.csv)?;
        }
    }
    Ok(())
}

async fn print_env(args: &Args) -> Result<(), BoxError> {
    let binary = args
        .0
        .first()
        .filter(|a| !a.starts_with("--"))
        .ok_or_else(|| format!("env needs a function name\n\n{USAGE}"))?;
    let stack = provision(args).await?;
    let function = stack
        .function(binary)
        .ok_or_else(|| format!("template.yaml has no function {binary}"))?;
    let env = stack.local_environment(function)?;
    for (name, value) in env {
        println!("export {name}='{}'", value.replace('\'', "'\\''"));
    }
    Ok(())
}

async fn create_admin(args: &Args) -> Result<(), BoxError> {
    let required = |flag: &str| args.value(flag).ok_or_else(|| format!("{flag} is required\n\n{USAGE}"));
    let email = Email::parse(&required("--email")?)?;
    let password = Password::parse(&required("--password")?).map_err(|e| format!("--password {e}"))?;
    let first_name = PersonName::parse(&args.value("--first-name").unwrap_or_else(|| "Admin".into()))?;
    let last_name = PersonName::parse(&args.value("--last-name").unwrap_or_else(|| "User".into()))?;
    let endpoints = endpoints_from_env();
    let table = match args.value("--table") {
        Some(table) => table,
        None if endpoints.dynamodb.is_some() => format!(
            "{}-ShopTable",
            args.value("--prefix").unwrap_or_else(|| "shop-local".into())
        ),
        None => return Err("--table is required against AWS".into()),
    };
    let clients = AwsClients::new(&endpoints).await;
    let store = shop::store::Store::new(clients.dynamodb().clone(), table.clone());
    let input = shop::users::NewUser {
        email,
        password,
        first_name,
        last_name,
        phone_number: None,
    };
    let (user_id, created) = shop::users::bootstrap_admin(&store, input)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{} admin {user_id} in table {table}",
        if created { "created" } else { "promoted" }
    );
    Ok(())
}

fn log_file(args: &Args) -> std::path::PathBuf {
    args.value("--file")
        .map_or_else(shop_local::logs::default_path, std::path::PathBuf::from)
}

fn logs(args: &Args) -> Result<(), BoxError> {
    let log = shop_local::logs::read(&log_file(args))?;
    let needle = args.value("--order").or_else(|| args.value("--request"));
    for line in shop_local::logs::show(&log, needle.as_deref()) {
        println!("{line}");
    }
    Ok(())
}

fn metrics(args: &Args) -> Result<(), BoxError> {
    let path = log_file(args);
    let (rows, invalid) = shop_local::logs::summary(&shop_local::logs::read(&path)?);
    for row in &rows {
        println!("{row}");
    }
    if invalid.is_empty() {
        println!(
            "every metric line of {} follows the Embedded Metric Format",
            path.display()
        );
        Ok(())
    } else {
        Err(format!("{} invalid metric line(s): {}", invalid.len(), invalid.join("; ")).into())
    }
}

fn check_logs(args: &Args) -> Result<(), BoxError> {
    let path = log_file(args);
    let log = shop_local::logs::read(&path)?;
    let leaks = shop_local::logs::leaks(&log);
    if leaks.is_empty() {
        println!(
            "{}: {} lines, no email address, token, secret, password or card number",
            path.display(),
            log.lines().count()
        );
        return Ok(());
    }
    for leak in leaks.iter().take(20) {
        eprintln!("{}:{}: {}", path.display(), leak.line, leak.kind);
    }
    Err(format!("{} line(s) of the log hold private data", leaks.len()).into())
}
