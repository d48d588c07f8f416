//! `shop-bench`: see `USAGE`. Each subcommand prints its section as Markdown
//! and writes it into `docs/performance.md`.

use shop_bench::args::Args;
use shop_bench::workspace::Workspace;
use shop_bench::{BoxError, cold_start, cost, latency, report, scale, size, throughput};

const USAGE: &str = "\
usage: shop-bench <command> [options]

Run it against emulators, with the release profile (`make bench` runs `all`):
  scripts/with-stack.sh cargo run --release -p shop-bench -- <command> [options]

commands:
  cold-start   init time, first and warm invocation, peak RSS and init instruction
               count (callgrind) of every function's release binary, beside the
               hello-world baselines hello-http and hello-runtime
                 --runs N          cold starts per binary (default 20)
                 --functions a,b   only these functions (default: all of template.yaml)
                 --callgrind       count instructions even with --smoke
                 --no-callgrind    do not (callgrind takes minutes per binary)
  size         package size of every function: the release binary zipped as bootstrap
                 --arm64           cross-compile for arm64 with cargo-lambda (slow)
                                   instead of zipping the host binaries
  latency      warm latency of each route class through the local gateway, beside
               the time of the same DynamoDB requests sent alone by the SDK
                 --iterations N    calls per route class (default 200)
  throughput   customers at once, each registering, ordering, paying and waiting
               for fulfilment; orders per second, each step, and an oversell check
                 --customers N     (default 20)
  cost         cost per completed order at us-east-1 list prices: DynamoDB units,
               Lambda requests and GB-seconds, API Gateway, SQS, Secrets Manager, mail
                 --orders N        orders measured after the first, cold one (default 5)
  scale        listing and search with 1k, 10k and 50k products bulk-loaded
                 --products a,b,c  catalog sizes (default 1000,10000,50000)
                 --iterations N    calls per route and size (default 20)
  all          every part above, in this order, with its defaults (and --arm64)

The functions of parts 3 to 6 log to the file SHOP_LOG_FILE names (make bench
uses .local/bench/functions.log), or to stdout.

options of every command:
  --smoke      one iteration of everything (1 run, no callgrind, 1 customer, 1 order,
               100 products), for CI; prints the sections but leaves
               docs/performance.md alone (`make bench-smoke` runs it on a debug
               build of the bench, which measures debug binaries and never
               writes the document)
  --no-build   use the release binaries as they are instead of building first
  --no-write   print only, leave docs/performance.md alone";

/// What every subcommand shares.
#[derive(Debug, Clone, Copy)]
struct Common {
    smoke: bool,
    build: bool,
    write: bool,
}

impl Common {
    fn take(args: &mut Args) -> Self {
        let smoke = args.flag("--smoke");
        Self {
            smoke,
            build: !args.flag("--no-build"),
            // A one-run smoke test, or a debug build's figures, must not
            // overwrite the figures of a real run.
            write: !args.flag("--no-write") && !smoke && shop_bench::workspace::RELEASE,
        }
    }

    /// `value` unless smoking, when one iteration is enough.
    fn or_one(self, value: usize) -> usize {
        if self.smoke { 1 } else { value }
    }
}

/// A part of the bench, with its options read from the command line.
enum Part {
    ColdStart(cold_start::Options),
    Size(size::Options),
    Latency(latency::Options),
    Throughput(throughput::Options),
    Cost(cost::Options),
    Scale(scale::Options),
}

impl Part {
    /// The section it owns and its title.
    fn section(&self) -> (&'static str, &'static str) {
        match self {
            Part::ColdStart(_) => (cold_start::SECTION, "Cold start"),
            Part::Size(_) => (size::SECTION, "Package size"),
            Part::Latency(_) => (latency::SECTION, "Warm latency"),
            Part::Throughput(_) => (throughput::SECTION, "Throughput"),
            Part::Cost(_) => (cost::SECTION, "Cost per order"),
            Part::Scale(_) => (scale::SECTION, "Catalog scale"),
        }
    }

    /// Whether it runs the functions in this process rather than their binaries.
    fn in_process(&self) -> bool {
        !matches!(self, Part::ColdStart(_) | Part::Size(_))
    }

    /// The two process-level parts run on one thread (their stub and timings
    /// need no more); the parts that run the whole stack in-process get a
    /// worker per core, as concurrent customers need.
    fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        if self.in_process() {
            tokio::runtime::Builder::new_multi_thread().enable_all().build()
        } else {
            tokio::runtime::Builder::new_current_thread().enable_all().build()
        }
    }

    async fn measure(&self) -> Result<String, BoxError> {
        match self {
            Part::ColdStart(options) => cold_start::run(options).await,
            Part::Size(options) => size::run(options),
            Part::Latency(options) => latency::run(options).await,
            Part::Throughput(options) => throughput::run(options).await,
            Part::Cost(options) => cost::run(options).await,
            Part::Scale(options) => scale::run(options).await,
        }
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() || argv.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return;
    }
    if let Err(err) = run(argv) {
        eprintln!("shop-bench: {err}");
        std::process::exit(1);
    }
}

fn run(mut argv: Vec<String>) -> Result<(), BoxError> {
    let command_line = format!("shop-bench {}", argv.join(" "));
    let command = argv.remove(0);
    let mut args = Args::new(argv);
    let common = Common::take(&mut args);
    let parts = match command.as_str() {
        "cold-start" => vec![Part::ColdStart(cold_start_options(&mut args, common)?)],
        "size" => vec![Part::Size(size_options(&mut args, common))],
        "latency" => vec![Part::Latency(latency_options(&mut args, common)?)],
        "throughput" => vec![Part::Throughput(throughput_options(&mut args, common)?)],
        "cost" => vec![Part::Cost(cost_options(&mut args, common)?)],
        "scale" => vec![Part::Scale(scale_options(&mut args, common)?)],
        "all" => vec![
            Part::ColdStart(cold_start_options(&mut Args::new(Vec::new()), common)?),
            Part::Size(size_options(&mut args, common)),
            Part::Latency(latency_options(&mut Args::new(Vec::new()), common)?),
            Part::Throughput(throughput_options(&mut Args::new(Vec::new()), common)?),
            Part::Cost(cost_options(&mut Args::new(Vec::new()), common)?),
            Part::Scale(scale_options(&mut Args::new(Vec::new()), common)?),
        ],
        other => return Err(format!("unknown command {other:?}\n\n{USAGE}").into()),
    };
    args.finish()?;
    if parts.iter().any(Part::in_process) {
        // The functions log as they do in Lambda: JSON lines and metrics, to
        // SHOP_LOG_FILE when it is set (`make bench` sets it), else to stdout.
        if std::env::var_os("SHOP_LOG_FILE").is_none() {
            eprintln!("shop-bench: SHOP_LOG_FILE is not set: the functions' log lines go to stdout");
        }
        shop::logging::init();
    }
    let total = parts.len();
    for (index, part) in parts.iter().enumerate() {
        let (section, title) = part.section();
        eprintln!("shop-bench: part {}/{total}: {title}", index + 1);
        let markdown = part.runtime()?.block_on(part.measure())?;
        let body = format!("## {title}\n\n{}\n{markdown}", report::provenance(&command_line));
        println!("{body}");
        if common.write {
            let path = Workspace::locate()?.root.join("docs").join("performance.md");
            report::write_section(&path, section, &body)?;
            eprintln!("shop-bench: wrote section {section} of {}", path.display());
        }
    }
    Ok(())
}

fn number(args: &mut Args, name: &str, default: usize) -> Result<usize, BoxError> {
    let value = match args.value(name)? {
        Some(value) => value.parse().map_err(|e| format!("{name} {value:?}: {e}"))?,
        None => default,
    };
    if value == 0 {
        return Err(format!("{name} must be at least 1").into());
    }
    Ok(value)
}

fn cold_start_options(args: &mut Args, common: Common) -> Result<cold_start::Options, BoxError> {
    let runs = number(args, "--runs", common.or_one(20))?;
    let only = args
        .value("--functions")?
        .map(|list| list.split(',').map(str::trim).map(str::to_owned).collect());
    let forced = args.flag("--callgrind");
    let refused = args.flag("--no-callgrind");
    Ok(cold_start::Options {
        runs,
        only,
        callgrind: forced || (!common.smoke && !refused),
        build: common.build,
    })
}

fn size_options(args: &mut Args, common: Common) -> size::Options {
    size::Options {
        arm64: args.flag("--arm64"),
        build: common.build,
    }
}

fn latency_options(args: &mut Args, common: Common) -> Result<latency::Options, BoxError> {
    Ok(latency::Options {
        iterations: number(args, "--iterations", common.or_one(200))?,
    })
}

fn throughput_options(args: &mut Args, common: Common) -> Result<throughput::Options, BoxError> {
    Ok(throughput::Options {
        customers: number(args, "--customers", common.or_one(20))?,
    })
}

fn cost_options(args: &mut Args, common: Common) -> Result<cost::Options, BoxError> {
    Ok(cost::Options {
        orders: number(args, "--orders", common.or_one(5))?,
    })
}

fn scale_options(args: &mut Args, common: Common) -> Result<scale::Options, BoxError> {
    let tiers = match args.value("--products")? {
        Some(list) => list
            .split(',')
            .map(|n| n.trim().parse::<usize>().map_err(|e| format!("--products {n:?}: {e}")))
            .collect::<Result<Vec<_>, _>>()?,
        None if common.smoke => vec![100],
        None => vec![1_000, 10_000, 50_000],
    };
    if tiers.is_empty() || tiers.contains(&0) || !tiers.is_sorted() {
        return Err("--products takes ascending catalog sizes of at least 1".into());
    }
    Ok(scale::Options {
        tiers,
        iterations: number(args, "--iterations", common.or_one(20))?,
    })
}
