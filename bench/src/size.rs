//! Part 2, `shop-bench size`: the deployment package of every function, the
//! binary zipped as `bootstrap` as Lambda's `provided.al2023` runtime takes it.
//!
//! By default the host's release binaries are zipped (fast, and what the
//! cold-start part runs); `--arm64` cross-compiles the packages that are
//! really deployed (template.yaml: arm64) with cargo-lambda, which is slow.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::BoxError;
use crate::report::{Table, figure};
use crate::workspace::{FunctionDef, HELLO_HTTP, HELLO_RUNTIME, Workspace};

/// The section of `docs/performance.md` this part owns.
pub const SECTION: &str = "size";

/// The venv cargo-lambda and zig are installed into (from PyPI).
const CARGO_LAMBDA_VENV: &str = ".local/cargo-lambda";
const CARGO_LAMBDA_PACKAGES: &[&str] = &["cargo-lambda", "ziglang"];

#[derive(Debug, Clone)]
pub struct Options {
    /// Cross-compile for arm64 with cargo-lambda instead of zipping host binaries.
    pub arm64: bool,
    /// Build first (a no-op when the binaries are fresh).
    pub build: bool,
}

/// One package: the binary and its zip.
struct Package {
    name: String,
    binary_bytes: u64,
    zip_bytes: u64,
}

/// Builds, packages, and returns the Markdown of the section.
pub fn run(options: &Options) -> Result<String, BoxError> {
    let workspace = Workspace::locate()?;
    let functions = workspace.functions()?;
    let names = binary_names(&functions);
    let packages = if options.arm64 {
        arm64_packages(&workspace, &functions, &names, options.build)?
    } else {
        host_packages(&workspace, &functions, &names, options.build)?
    };
    Ok(render(&packages, options.arm64))
}

/// The baselines first, as in the cold-start table, then the functions.
fn binary_names(functions: &[FunctionDef]) -> Vec<String> {
    [HELLO_HTTP, HELLO_RUNTIME]
        .into_iter()
        .map(str::to_owned)
        .chain(functions.iter().map(|f| f.name.clone()))
        .collect()
}

/// The host's release binaries, each zipped here as `bootstrap`.
fn host_packages(
    workspace: &Workspace,
    functions: &[FunctionDef],
    names: &[String],
    build: bool,
) -> Result<Vec<Package>, BoxError> {
    if build {
        workspace.build_functions(functions)?;
        workspace.build_baselines()?;
    }
    let zips = workspace.scratch("zips")?;
    names
        .iter()
        .map(|name| {
            let binary = workspace.release_binary(name);
            let zip = zip_as_bootstrap(&binary, &zips.join(name))?;
            package(name, &binary, &zip)
        })
        .collect()
}

/// Copies `binary` to `dir/bootstrap` and zips it into `dir/bootstrap.zip`
/// with the `zip` command (which keeps the executable bit Lambda needs).
fn zip_as_bootstrap(binary: &Path, dir: &Path) -> Result<PathBuf, BoxError> {
    std::fs::create_dir_all(dir)?;
    let bootstrap = dir.join("bootstrap");
    let zip = dir.join("bootstrap.zip");
    std::fs::copy(binary, &bootstrap).map_err(|e| format!("{}: {e}", binary.display()))?;
    // `zip` adds to an existing archive; start afresh.
    let _ = std::fs::remove_file(&zip);
    let status = Command::new("zip")
        .args(["-q", "-X", "bootstrap.zip", "bootstrap"])
        .current_dir(dir)
        .status()
        .map_err(|e| format!("zip: {e} (apt-get install zip)"))?;
    if !status.success() {
        return Err(format!("zip of {} failed ({status})", binary.display()).into());
    }
    Ok(zip)
}

/// cargo-lambda's arm64 zips (`target/lambda/NAME/bootstrap.zip`), cross-compiled with zig.
fn arm64_packages(
    workspace: &Workspace,
    functions: &[FunctionDef],
    names: &[String],
    build: bool,
) -> Result<Vec<Package>, BoxError> {
    if build {
        let cargo_lambda = CargoLambda::install(workspace)?;
        let mut function_args = Vec::new();
        for function in functions {
            function_args.extend(["-p".to_owned(), function.name.clone()]);
        }
        cargo_lambda.build(&function_args)?;
        let mut baseline_args = vec!["-p".to_owned(), env!("CARGO_PKG_NAME").to_owned()];
        for hello in [HELLO_HTTP, HELLO_RUNTIME] {
            baseline_args.extend(["--bin".to_owned(), hello.to_owned()]);
        }
        cargo_lambda.build(&baseline_args)?;
    }
    names
        .iter()
        .map(|name| {
            let binary = workspace
                .target_dir
                .join("aarch64-unknown-linux-gnu")
                .join("release")
                .join(name);
            let zip = workspace.target_dir.join("lambda").join(name).join("bootstrap.zip");
            package(name, &binary, &zip)
        })
        .collect()
}

fn package(name: &str, binary: &Path, zip: &Path) -> Result<Package, BoxError> {
    let size = |path: &Path| {
        std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    Ok(Package {
        name: name.to_owned(),
        binary_bytes: size(binary)?,
        zip_bytes: size(zip)?,
    })
}

/// cargo-lambda from its venv under `.local/`, installed there on first use.
struct CargoLambda {
    venv_bin: PathBuf,
    workspace: Workspace,
}

impl CargoLambda {
    fn install(workspace: &Workspace) -> Result<Self, BoxError> {
        let venv = workspace.root.join(CARGO_LAMBDA_VENV);
        let venv_bin = venv.join("bin");
        if !venv_bin.join("cargo-lambda").is_file() {
            eprintln!("shop-bench: installing cargo-lambda and zig into {}", venv.display());
            checked(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
            checked(
                Command::new(venv_bin.join("pip"))
                    .args(["install", "--quiet"])
                    .args(CARGO_LAMBDA_PACKAGES),
            )?;
        }
        Ok(Self {
            venv_bin,
            workspace: workspace.clone(),
        })
    }

    /// `cargo lambda build --release --arm64 --output-format zip ARGS`, with
    /// the venv first on PATH so that cargo-lambda finds zig (`python3 -m ziglang`).
    fn build(&self, args: &[String]) -> Result<(), BoxError> {
        let path = std::env::var("PATH").unwrap_or_default();
        eprintln!(
            "shop-bench: cargo lambda build --release --arm64 --output-format zip {}",
            args.join(" ")
        );
        checked(
            Command::new(self.venv_bin.join("cargo-lambda"))
                .args(["lambda", "build", "--release", "--arm64", "--output-format", "zip"])
                .args(args)
                .current_dir(&self.workspace.root)
                .env("PATH", format!("{}:{path}", self.venv_bin.display())),
        )
    }
}

fn checked(command: &mut Command) -> Result<(), BoxError> {
    let status = command.status().map_err(|e| format!("{command:?}: {e}"))?;
    if !status.success() {
        return Err(format!("{command:?} failed ({status})").into());
    }
    Ok(())
}

fn render(packages: &[Package], arm64: bool) -> String {
    let mut table = Table::new(&["binary", "binary bytes", "zip bytes", "zip MB"]);
    for package in packages {
        table.row(vec![
            package.name.clone(),
            package.binary_bytes.to_string(),
            package.zip_bytes.to_string(),
            figure(Some(package.zip_bytes as f64 / 1e6), 2),
        ]);
    }
    let what = if arm64 {
        "**arm64** packages, as deployed (template.yaml: `Architectures: arm64`): cross-compiled by \
         `cargo lambda build --release --arm64 --output-format zip`, the zips it wrote."
    } else {
        "**Host** packages, not the deployed architecture: this machine's release binaries \
         (`cargo build --release`, the binaries the cold-start part runs) zipped as `bootstrap` with \
         `zip`. `shop-bench size --arm64` measures the arm64 packages Lambda gets."
    };
    format!(
        "{}\n{what} MB = 10⁶ bytes; Lambda's limit is 50 MB zipped for a direct upload, 250 MB unzipped.\n",
        table.render(1)
    )
}
