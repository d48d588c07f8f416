//! Where things are: the workspace, its target directory, the release
//! binaries, and the functions `template.yaml` declares.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

use crate::BoxError;

/// The profile the bench measures: its own. `cargo run --release` (what
/// `make bench` runs) measures release binaries; a debug build of the bench
/// (the CI smoke) measures debug ones, which only shows that it works.
pub const RELEASE: bool = !cfg!(debug_assertions);

fn profile_dir() -> &'static str {
    if RELEASE { "release" } else { "debug" }
}

/// `cargo build`, with `--release` when measuring release binaries.
fn build_command() -> Vec<String> {
    let mut args = vec!["build".to_owned()];
    if RELEASE {
        args.push("--release".to_owned());
    }
    args
}

/// The names of the baseline binaries in this crate, one per kind of function.
pub const HELLO_HTTP: &str = "hello-http";
pub const HELLO_RUNTIME: &str = "hello-runtime";

/// Lambda's memory size when neither the function nor `Globals` sets one.
const DEFAULT_MEMORY_MB: u64 = 128;

/// The workspace this bench belongs to.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
}

/// A function of `template.yaml`, by its binary (= package) name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionDef {
    pub name: String,
    pub memory_mb: u64,
}

impl Workspace {
    /// The workspace this crate was built in, with the target directory cargo
    /// uses for it (`CARGO_TARGET_DIR` is honoured by `cargo metadata`).
    pub fn locate() -> Result<Self, BoxError> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .ok_or("the bench crate has no parent directory")?
            .to_path_buf();
        let output = Command::new(cargo())
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
            .current_dir(&root)
            .output()?;
        if !output.status.success() {
            return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr)).into());
        }
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        let target_dir = metadata["target_directory"]
            .as_str()
            .ok_or("cargo metadata has no target_directory")?
            .into();
        Ok(Self { root, target_dir })
    }

    /// Where the build of this bench's own profile puts binary `name`.
    pub fn release_binary(&self, name: &str) -> PathBuf {
        self.target_dir.join(profile_dir()).join(name)
    }

    /// A scratch directory of the bench's own under the target directory.
    pub fn scratch(&self, part: &str) -> Result<PathBuf, BoxError> {
        let dir = self.target_dir.join("shop-bench").join(part);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// The functions of `template.yaml`, in its order.
    pub fn functions(&self) -> Result<Vec<FunctionDef>, BoxError> {
        let text = std::fs::read_to_string(self.root.join("template.yaml"))?;
        parse_functions(&text)
    }

    /// Builds every function of the template with the release profile, in one
    /// cargo command whatever subset is measured: features are unified over
    /// the packages of one build, so a different set of packages could mean
    /// different binaries (and a rebuild of most dependencies).
    pub fn build_functions(&self, functions: &[FunctionDef]) -> Result<(), BoxError> {
        let mut args = build_command();
        for function in functions {
            args.extend(["-p".to_owned(), function.name.clone()]);
        }
        self.cargo(&args)
    }

    /// Builds the baselines with the same release profile, in a command of
    /// their own for the reason above.
    pub fn build_baselines(&self) -> Result<(), BoxError> {
        let mut args = build_command();
        args.extend(["-p".to_owned(), env!("CARGO_PKG_NAME").to_owned()]);
        for hello in [HELLO_HTTP, HELLO_RUNTIME] {
            args.extend(["--bin".to_owned(), hello.to_owned()]);
        }
        self.cargo(&args)
    }

    /// Runs cargo in the workspace; its output goes to our stderr.
    pub fn cargo(&self, args: &[String]) -> Result<(), BoxError> {
        eprintln!("shop-bench: cargo {}", args.join(" "));
        let status = Command::new(cargo())
            .args(args)
            .current_dir(&self.root)
            .stdout(std::process::Stdio::inherit())
            .status()?;
        if !status.success() {
            return Err(format!("cargo {} failed ({status})", args.join(" ")).into());
        }
        Ok(())
    }
}

/// The cargo that runs us, if we run under `cargo run`.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The functions of a SAM template: every `AWS::Serverless::Function` with its
/// `Metadata.BuildProperties.Binary` and its `MemorySize` (own or `Globals`).
pub fn parse_functions(template: &str) -> Result<Vec<FunctionDef>, BoxError> {
    let template: Value = serde_norway::from_str(template)?;
    let global_memory = template["Globals"]["Function"]["MemorySize"]
        .as_u64()
        .unwrap_or(DEFAULT_MEMORY_MB);
    let resources = template["Resources"]
        .as_mapping()
        .ok_or("template.yaml has no Resources")?;
    let mut functions = Vec::new();
    for (id, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .ok_or_else(|| format!("{id:?} has no Metadata.BuildProperties.Binary"))?;
        let memory_mb = resource["Properties"]["MemorySize"].as_u64().unwrap_or(global_memory);
        functions.push(FunctionDef {
            name: name.to_owned(),
            memory_mb,
        });
    }
    Ok(functions)
}

/// Keeps the functions named in `only` (all of them when it is `None`), in
/// the template's order; an unknown name is an error rather than a silent skip.
pub fn select(functions: Vec<FunctionDef>, only: Option<&[String]>) -> Result<Vec<FunctionDef>, BoxError> {
    let Some(only) = only else { return Ok(functions) };
    if let Some(unknown) = only.iter().find(|name| !functions.iter().any(|f| &f.name == *name)) {
        let known: Vec<_> = functions.iter().map(|f| f.name.as_str()).collect();
        return Err(format!("unknown function {unknown:?} (template.yaml has {})", known.join(", ")).into());
    }
    Ok(functions.into_iter().filter(|f| only.contains(&f.name)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Globals:
  Function:
    MemorySize: 256
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  UsersApiFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: users-api
    Properties:
      Environment:
        Variables:
          TABLE_NAME: !Ref Table
  ReportFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: daily-report
    Properties:
      MemorySize: 512
"#;

    #[test]
    fn functions_take_their_own_memory_size_or_the_global_one() {
        let functions = parse_functions(TEMPLATE).expect("parses");
        assert_eq!(
            functions,
            vec![
                FunctionDef {
                    name: "users-api".into(),
                    memory_mb: 256
                },
                FunctionDef {
                    name: "daily-report".into(),
                    memory_mb: 512
                },
            ]
        );
    }

    #[test]
    fn selecting_an_unknown_function_is_an_error() {
        let functions = parse_functions(TEMPLATE).expect("parses");
        let only = vec!["users-api".to_owned()];
        assert_eq!(select(functions.clone(), Some(&only)).expect("known").len(), 1);
        let only = vec!["nope".to_owned()];
        assert!(select(functions, Some(&only)).is_err());
    }
}
