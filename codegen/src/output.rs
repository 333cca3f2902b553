//! What a generator produces, and writing it to disk.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::ir::MapErrors;

/// One generated file, with its path relative to the output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Where it goes, relative to the output folder (`src/client.ts`).
    pub path: PathBuf,
    /// Its text.
    pub contents: String,
}

impl OutputFile {
    /// A text file, ending in exactly one newline whatever the template left.
    pub fn text(path: impl Into<PathBuf>, mut contents: String) -> OutputFile {
        while contents.ends_with("\n\n") {
            contents.pop();
        }
        if !contents.ends_with('\n') {
            contents.push('\n');
        }
        OutputFile { path: path.into(), contents }
    }
}

/// Why an SDK could not be generated.
#[derive(Debug)]
pub enum GenerateError {
    /// Some schemas cannot be mapped to types.
    Map(MapErrors),
    /// A type cannot be represented in the target language.
    Unsupported(String),
    /// A template failed to render.
    Render(askama::Error),
    /// A file could not be written.
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
}

impl fmt::Display for GenerateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenerateError::Map(e) => e.fmt(f),
            GenerateError::Unsupported(why) => f.write_str(why),
            GenerateError::Render(e) => write!(f, "rendering a template failed: {e}"),
            GenerateError::Write { path, error } => write!(f, "cannot write {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for GenerateError {}

impl From<askama::Error> for GenerateError {
    fn from(e: askama::Error) -> Self {
        GenerateError::Render(e)
    }
}

impl From<MapErrors> for GenerateError {
    fn from(e: MapErrors) -> Self {
        GenerateError::Map(e)
    }
}

/// Writes `files` below `out`, creating folders as needed.
pub fn write_all(out: &Path, files: &[OutputFile]) -> Result<(), GenerateError> {
    for file in files {
        let path = out.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| GenerateError::Write { path: parent.to_path_buf(), error })?;
        }
        std::fs::write(&path, &file.contents).map_err(|error| GenerateError::Write { path, error })?;
    }
    Ok(())
}

/// Settings shared by every language's generator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The package's name; defaults to one derived from the service's name.
    pub package_name: Option<String>,
    /// The package's version; defaults to the service's version.
    pub package_version: Option<String>,
}

impl Settings {
    /// Default settings.
    pub fn new() -> Settings {
        Settings::default()
    }

    /// Sets the package's name.
    pub fn package_name(mut self, name: impl Into<String>) -> Settings {
        self.package_name = Some(name.into());
        self
    }

    /// Sets the package's version.
    pub fn package_version(mut self, version: impl Into<String>) -> Settings {
        self.package_version = Some(version.into());
        self
    }
}
