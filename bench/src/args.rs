//! The command line after the subcommand. Every flag is taken out as it is
//! read, so that what is left over is reported rather than ignored.

use crate::BoxError;

pub struct Args(Vec<String>);

impl Args {
    pub fn new(args: Vec<String>) -> Self {
        Self(args)
    }

    /// Whether the bare flag `name` was given.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|arg| arg != name);
        self.0.len() != before
    }

    /// The value after `name`, if given (`--runs 5` or `--runs=5`).
    pub fn value(&mut self, name: &str) -> Result<Option<String>, BoxError> {
        let prefix = format!("{name}=");
        if let Some(i) = self.0.iter().position(|arg| arg.starts_with(&prefix)) {
            let arg = self.0.remove(i);
            return Ok(Some(arg[prefix.len()..].to_owned()));
        }
        let Some(i) = self.0.iter().position(|arg| arg == name) else {
            return Ok(None);
        };
        if i + 1 >= self.0.len() {
            return Err(format!("{name} needs a value").into());
        }
        let value = self.0.remove(i + 1);
        self.0.remove(i);
        Ok(Some(value))
    }

    /// Fails on anything not read.
    pub fn finish(self) -> Result<(), BoxError> {
        match self.0.first() {
            Some(unknown) => Err(format!("unknown argument {unknown:?}").into()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Args {
        Args::new(text.split_whitespace().map(str::to_owned).collect())
    }

    #[test]
    fn flags_and_values_are_taken_out() {
        let mut a = args("--runs 5 --smoke --functions=a,b");
        assert!(a.flag("--smoke"));
        assert!(!a.flag("--arm64"));
        assert_eq!(a.value("--runs").expect("ok").as_deref(), Some("5"));
        assert_eq!(a.value("--functions").expect("ok").as_deref(), Some("a,b"));
        assert!(a.finish().is_ok());
    }

    #[test]
    fn leftovers_and_missing_values_are_errors() {
        assert!(args("--bogus").finish().is_err());
        assert!(args("--runs").value("--runs").is_err());
    }
}
